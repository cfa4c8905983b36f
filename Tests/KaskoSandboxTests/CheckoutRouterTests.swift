// The checkout routes through Router.handle alone: quotes, offers,
// policies, approval, counters; and the pieces under them (price, token,
// dates, the HMAC from libcrypto, routed fault rules).

import Foundation
import NIOCore
import NIOHTTP1
import Testing
@testable import KaskoSandbox

extension RouterHarness {
    static let v3 = ("Accept", "application/vnd.kasko.v3+json")
    static let v2 = ("Accept", "application/vnd.kasko.v2+json")

    mutating func quote(plan: String = "pp_sandbox_single", tripCost: Int = 100_000, start: String = "2027-03-01")
        -> Answer
    {
        send(.POST, "/quotes?key=" + config.publicKey, headers: [Self.v3], body: """
            {"item_id":"ins_sandbox_travel","subscription_plan_id":"\(plan)","integration_id":"in_sandbox_travel",\
            "data":{"trip_cost":\(tripCost),"policy_start_date":"\(start)"}}
            """)
    }

    mutating func checkoutOffer(quoteToken: String, data: String = "{}") -> Answer {
        send(.POST, "/policies?key=" + config.publicKey, headers: [Self.v2], body: """
            {"quote_token":"\(quoteToken)","first_name":"A","last_name":"B","email":"a@b.c","language":"de",\
            "data":\(data)}
            """)
    }
}

@Suite struct CheckoutRouterTests {
    @Test func quoteAnswerAndDeterminism() {
        var sandbox = RouterHarness()
        let first = sandbox.quote()
        #expect(first.status == .ok)
        #expect(first.memberNames == ["token", "gross_payment_amount", "extra_data"])
        #expect(first.object["gross_payment_amount"] as? Int == 4000)
        #expect(sandbox.quote().body == first.body)
        #expect(sandbox.quote(tripCost: 100_001).string("token") != first.string("token"))
    }

    @Test func quoteValidationListsEveryProblem() {
        var sandbox = RouterHarness()
        let answer = sandbox.send(.POST, "/quotes?key=pk_test_sandbox", headers: [RouterHarness.v3],
                                  body: #"{"item_id":3,"data":{}}"#)
        #expect(answer.status == .badRequest)
        #expect(answer.memberNames == ["status", "message", "errors"])
        let errors = (answer.object["errors"] as? [[String: String]]) ?? []
        #expect(errors.map { $0["field"] ?? "" } == ["item_id", "subscription_plan_id", "integration_id"])
        #expect(errors.map { $0["code"] ?? "" } == ["invalid_value", "required", "required"])
    }

    @Test func offerThenPolicyPendingWithETag() {
        var sandbox = RouterHarness()
        let token = sandbox.quote().string("token") ?? ""
        let offer = sandbox.checkoutOffer(quoteToken: token)
        #expect(offer.status == .created)
        let id = offer.string("id") ?? ""
        let policy = sandbox.send(.GET, "/policies/" + id, headers: sandbox.secretHeader + [RouterHarness.v2])
        #expect(policy.status == .ok)
        #expect(policy.string("status") == "pending")
        #expect(policy.header("ETag") == policy.string("version_id"))
        #expect(policy.header("Last-Modified")?.hasSuffix(" GMT") == true)
        #expect(!policy.body.contains("ptok_"))
    }

    @Test func manualUnderwritingNeedsApproval() {
        var sandbox = RouterHarness()
        let token = sandbox.quote().string("token") ?? ""
        let offer = sandbox.checkoutOffer(quoteToken: token, data: #"{"manual_underwriting":true}"#)
        #expect(offer.memberNames == ["id", "insurer_policy_id", "_links"])
        let id = offer.string("id") ?? ""
        let approved = sandbox.send(.POST, "/__sandbox/offers/\(id)/approve")
        #expect(approved.status == .ok)
        #expect(approved.string("status") == "ready")
        #expect(approved.string("payment_token")?.hasPrefix("ptok_") == true)
        #expect(sandbox.send(.POST, "/__sandbox/offers/\(id)/approve").status == .conflict)
    }

    @Test func invoicePaymentCreatesThePolicyOnATimer() async throws {
        var sandbox = RouterHarness { $0.policyDelayMs = 0 }
        let offer = sandbox.offer()
        #expect(sandbox.createPayment(policyId: offer.policyId, token: offer.token).status == .ok)
        let deadline = ContinuousClock.now + .seconds(10)
        var status = ""
        while ContinuousClock.now < deadline {
            status = sandbox.send(.GET, "/policies/" + offer.policyId,
                                  headers: sandbox.secretHeader + [RouterHarness.v2]).string("status") ?? ""
            if status == "paid" { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(status == "paid")
        let payments = sandbox.send(.GET, "/__sandbox/policies/\(offer.policyId)/payments")
        #expect((payments.object["payments"] as? [String])?.count == 1)
        #expect(sandbox.send(.GET, "/__sandbox/stats").object["policies_paid"] as? Int == 1)
    }

    @Test func prices() {
        let start = CalendarDay(year: 2027, month: 1, day: 1)
        let single = QuoteEngine.price(integrationId: "i", itemId: "t", plan: .single, tripCost: 100, startDay: start)
        #expect((single.gross, single.premiumTax, single.net) == (500, 80, 420))
        let annual = QuoteEngine.price(integrationId: "i", itemId: "t", plan: .annual, tripCost: 12_345,
                                       startDay: start)
        #expect(annual.gross == 9023 && annual.premiumTax == (9023 * 19 + 59) / 119)
    }

    @Test func calendarDays() {
        #expect(CalendarDay.parse("2028-02-29") == CalendarDay(year: 2028, month: 2, day: 29))
        for bad in ["2027-02-29", "2027-04-31", "2027-00-10", "27-01-01", "2027-01-01T00", "2027/01/01", "+027-01-01"] {
            #expect(CalendarDay.parse(bad) == nil, "\(bad)")
        }
        let leap = CalendarDay(year: 2028, month: 2, day: 29)
        #expect(leap.addingOneYear() == CalendarDay(year: 2029, month: 3, day: 1))
        #expect(CalendarDay(year: 2027, month: 12, day: 15).addingDays(30) == CalendarDay(year: 2028, month: 1, day: 14))
        #expect(Timestamps.httpDate(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(Timestamps.iso8601Offset(86_400) == "1970-01-02T00:00:00+00:00")
    }

    /// Reference 6.3's self-computed vectors (Python's hmac), through libcrypto.
    @Test func signatureVectors() {
        let body = Array(#"{"id":"tpol_0000000000000000000000000000","livemode":false,"policy_id":"TEST-POLICY-12345"}"#.utf8)
        let key = Array("whsec_test_secret".utf8)
        #expect(HMACSHA1.hex(key: key, message: body) == "bed331ec2031e668907869f5ed39cf12136167a9")
        #expect(HMACSHA1.hex(key: key, message: body + [0x0A]) == "f42fe9d573c1ddf6f388aeb10c6e9330a07e1320")
        #expect(HMACSHA1.hex(key: Array("test_secret".utf8), message: body)
            == "b99e8a97c5f8540099eae9ce852cd1c0fc335295")
    }

    @Test func routedRulesSkipOtherRoutes() {
        let registry = FaultRegistry(randomProbability: 0)
        #expect(registry.arm(key: "k", fault: Fault(status: 500), times: 1, id: "a", route: .policyView))
        #expect(registry.arm(key: "k", fault: Fault(status: 503), times: 1, id: "b"))
        #expect(registry.noteRequest(key: "k", consultRules: true, route: .offerView) == Fault(status: 503))
        #expect(registry.noteRequest(key: "k", consultRules: true, route: .offerView) == nil)
        #expect(registry.noteRequest(key: "k", consultRules: true, route: .policyView) == Fault(status: 500))
        #expect(registry.attempts(key: "k") == 3)
    }

    @Test(arguments: [
        (HTTPMethod.POST, "/quotes?key=k", FaultRoute.quoteCreate),
        (.POST, "/policies?key=k", .offerCreate),
        (.GET, "/policies/tpol_1", .policyView),
        (.GET, "/offers/tpol_1", .offerView),
        (.GET, "/payments/t1", .paymentView),
        (.POST, "/payments", .paymentCreate),
    ])
    func faultRoutes(method: HTTPMethod, uri: String, route: FaultRoute) {
        #expect(Router.faultRoute(method: method, uri: uri) == route)
        #expect(Router.faultTarget(method: method, uri: uri).isAPI)
    }

    @Test func checkoutFaultKeys() {
        #expect(Router.createFaultKey(ByteBuffer(string: #"{"integration_id":"in_x"}"#), field: "integration_id") == "in_x")
        #expect(Router.createFaultKey(ByteBuffer(string: #"{"quote_token":"qtok_1"}"#), field: "quote_token") == "qtok_1")
        #expect(Router.faultTarget(method: .GET, uri: "/__sandbox/stats").isAPI == false)
    }
}
