// The sandbox-only endpoints under /__sandbox, through Router.handle alone:
// offers, settling, health, connection counts, and the fault-injection
// endpoints that exist only with --faults.

import Foundation
import NIOCore
import NIOHTTP1
import Testing
@testable import KaskoSandbox

@Suite struct OfferTests {
    @Test func anOfferHasAFreshPolicyAndTokenInTheAPIsShapes() {
        var sandbox = RouterHarness()
        let answer = sandbox.send(.POST, "/__sandbox/offers")
        #expect(answer.status == .created)
        #expect(answer.memberNames == ["policy_id", "token"])
        let policyId = answer.string("policy_id") ?? ""
        let token = answer.string("token") ?? ""
        #expect(policyId.hasPrefix("tpol_") && policyId.count == 33 && consists(of: lowercaseHex, policyId.dropFirst(5)))
        #expect(token.hasPrefix("ptok_") && token.count == 45 && consists(of: lowercaseHex, token.dropFirst(5)))

        let other = sandbox.offer()
        #expect(other.policyId != policyId)
        #expect(other.token != token)
    }

    @Test func offersNeedNoCredentialsAndIgnoreTheirBody() {
        var sandbox = RouterHarness()
        let answer = sandbox.send(.POST, "/__sandbox/offers?key=wrong", headers: [("Authorization", "Bearer x")],
                                  body: "not json")
        #expect(answer.status == .created)
    }
}

@Suite struct SettleTests {
    private func pendingPayment(_ sandbox: inout RouterHarness) -> (id: String, policyId: String, token: String) {
        let offer = sandbox.offer()
        let answer = sandbox.createPayment(policyId: offer.policyId, token: offer.token, provider: "deferred")
        return (answer.string("id") ?? "", offer.policyId, offer.token)
    }

    @Test(arguments: ["", "{}", #"{"status":null}"#, #"{"status":"ok"}"#])
    func settlingOkPaysThePolicy(body: String) {
        var sandbox = RouterHarness()
        let payment = pendingPayment(&sandbox)
        let answer = sandbox.send(.POST, "/__sandbox/payments/\(payment.id)/settle", body: body)
        #expect(answer.status == .ok)
        #expect(answer.memberNames == ReferenceFields.list("full"))
        #expect(answer.string("id") == payment.id)
        #expect(answer.string("status") == "ok")
        #expect(answer.object["error_code"] is NSNull)
        #expect((answer.string("processed_at") ?? "").hasSuffix("Z"))

        let viewed = sandbox.send(.GET, "/payments/" + payment.id, headers: sandbox.secretHeader)
        #expect(viewed.string("status") == "ok")
        let again = sandbox.createPayment(policyId: payment.policyId, token: payment.token)
        #expect(again.status == .badRequest)
        #expect(again.message == "Policy - \(payment.policyId) is already paid.")
    }

    @Test func settlingFailedReleasesThePolicy() {
        var sandbox = RouterHarness()
        let payment = pendingPayment(&sandbox)
        let answer = sandbox.send(.POST, "/__sandbox/payments/\(payment.id)/settle", body: #"{"status":"failed"}"#)
        #expect(answer.status == .ok)
        #expect(answer.string("status") == "failed")
        #expect(answer.string("error_code") == "payment_failed")
        #expect(answer.string("processed_at") != nil)

        let retry = sandbox.createPayment(policyId: payment.policyId, token: payment.token)
        #expect(retry.status == .ok)
        #expect(retry.string("id") != payment.id)
        // The failed payment stays viewable as it was.
        let viewed = sandbox.send(.GET, "/payments/" + payment.id, headers: sandbox.secretHeader)
        #expect(viewed.string("status") == "failed")
    }

    @Test func onlyAPendingPaymentCanBeSettled() {
        var sandbox = RouterHarness()
        let payment = pendingPayment(&sandbox)
        #expect(sandbox.send(.POST, "/__sandbox/payments/\(payment.id)/settle").status == .ok)
        let twice = sandbox.send(.POST, "/__sandbox/payments/\(payment.id)/settle", body: #"{"status":"failed"}"#)
        #expect(twice.status == .conflict)
        #expect(twice.body
            == #"{"status":"Conflict","message":"Payment - \#(payment.id) is not pending (status ok)."}"#)

        let offer = sandbox.offer()
        let invoice = sandbox.createPayment(policyId: offer.policyId, token: offer.token).string("id") ?? ""
        let settled = sandbox.send(.POST, "/__sandbox/payments/\(invoice)/settle")
        #expect(settled.status == .conflict)
        #expect(settled.message == "Payment - \(invoice) is not pending (status ok).")
    }

    @Test func anUnknownPaymentIs404() {
        var sandbox = RouterHarness()
        let answer = sandbox.send(.POST, "/__sandbox/payments/t0/settle")
        #expect(answer.status == .notFound)
        #expect(answer.body == #"{"status":"Not Found"}"#)
    }

    @Test(arguments: [
        ("[]", "The request body must be a JSON object."),
        ("nope", "The request body must be a JSON object."),
        (#"{"status":"paid"}"#, #"The status field must be "ok" or "failed"."#),
        (#"{"status":1}"#, #"The status field must be "ok" or "failed"."#),
    ])
    func aBadBodyIs400AndSettlesNothing(body: String, message: String) {
        var sandbox = RouterHarness()
        let payment = pendingPayment(&sandbox)
        let answer = sandbox.send(.POST, "/__sandbox/payments/\(payment.id)/settle", body: body)
        #expect(answer.status == .badRequest)
        #expect(answer.message == message)
        let viewed = sandbox.send(.GET, "/payments/" + payment.id, headers: sandbox.secretHeader)
        #expect(viewed.string("status") == "pending")
    }
}

@Suite struct HealthAndConnectionTests {
    @Test func health() {
        var sandbox = RouterHarness()
        let answer = sandbox.send(.GET, "/__sandbox/health")
        #expect(answer.status == .ok)
        #expect(answer.body == #"{"status":"ok"}"#)
    }

    @Test(arguments: [false, true])
    func connectionsCountWhatTheServerAccepted(faults: Bool) {
        var sandbox = RouterHarness { $0.faults = faults }
        #expect(sandbox.send(.GET, "/__sandbox/connections").body == #"{"accepted":0}"#)
        for _ in 0..<3 { sandbox.router.connectionAccepted() }
        #expect(sandbox.send(.GET, "/__sandbox/connections").body == #"{"accepted":3}"#)
    }
}

@Suite struct FaultEndpointTests {
    @Test(arguments: [
        (HTTPMethod.POST, "/__sandbox/faults"),
        (.DELETE, "/__sandbox/faults"),
        (.DELETE, "/__sandbox/faults/k"),
        (.GET, "/__sandbox/attempts/k"),
        (.DELETE, "/__sandbox/attempts/k"),
        (.DELETE, "/__sandbox/attempts"),
    ])
    func withoutFaultsTheyDoNotExist(method: HTTPMethod, uri: String) {
        var sandbox = RouterHarness()
        let answer = sandbox.send(method, uri, body: #"{"key":"k","fault":{}}"#)
        #expect(answer.status == .notFound)
        #expect(answer.body == #"{"status":"Not Found"}"#)
        #expect(sandbox.router.faults == nil)
    }

    @Test func armingAnswersARuleIdAndTheRuleApplies() throws {
        var sandbox = RouterHarness { $0.faults = true }
        let faults = try #require(sandbox.router.faults)
        let answer = sandbox.send(.POST, "/__sandbox/faults", body: #"{"key":"t1","fault":{"status":503},"times":2}"#)
        #expect(answer.status == .created)
        #expect(answer.memberNames == ["id"])
        let id = answer.string("id") ?? ""
        #expect(id.hasPrefix("flt_") && id.count == 28 && consists(of: lowercaseHex, id.dropFirst(4)))

        #expect(faults.noteRequest(key: "t1", consultRules: true) == Fault(status: 503))
        #expect(faults.noteRequest(key: "t1", consultRules: true) == Fault(status: 503))
        #expect(faults.noteRequest(key: "t1", consultRules: true) == nil)
        #expect(sandbox.send(.GET, "/__sandbox/attempts/t1").body == #"{"key":"t1","attempts":3}"#)
    }

    @Test(arguments: [
        (nil, "The request body must be a JSON object."),
        ("", "The request body must be a JSON object."),
        ("[]", "The request body must be a JSON object."),
        (#"{"key":"k","fault":{},"extra":1,"another":2}"#, "Unknown field 'another'."),
        (#"{"fault":{}}"#, "The key field is required and must be a non-empty string."),
        (#"{"key":"","fault":{}}"#, "The key field is required and must be a non-empty string."),
        (#"{"key":5,"fault":{}}"#, "The key field is required and must be a non-empty string."),
        (#"{"key":"k"}"#, "The fault field is required and must be a JSON object."),
        (#"{"key":"k","fault":"status"}"#, "The fault field is required and must be a JSON object."),
        (#"{"key":"k","fault":{"status":99}}"#, "The status field must be an integer from 200 to 599."),
        (#"{"key":"k","fault":{"bogus":1}}"#, "Unknown fault field 'bogus'."),
        (#"{"key":"k","fault":{},"times":0}"#,
         "The times field must be a positive integer (leave it out for: until cleared)."),
        (#"{"key":"k","fault":{},"times":-1}"#,
         "The times field must be a positive integer (leave it out for: until cleared)."),
        (#"{"key":"k","fault":{},"times":1.5}"#,
         "The times field must be a positive integer (leave it out for: until cleared)."),
        (#"{"key":"k","fault":{},"times":"2"}"#,
         "The times field must be a positive integer (leave it out for: until cleared)."),
    ] as [(String?, String)])
    func aBadArmingIs400AndArmsNothing(body: String?, message: String) throws {
        var sandbox = RouterHarness { $0.faults = true }
        let answer = sandbox.send(.POST, "/__sandbox/faults", body: body)
        #expect(answer.status == .badRequest)
        #expect(answer.string("status") == "Bad Request")
        #expect(answer.message == message)
        #expect(sandbox.send(.DELETE, "/__sandbox/faults").body == #"{"cleared":0}"#)
    }

    @Test func keysAreLimitedTo256Bytes() {
        var sandbox = RouterHarness { $0.faults = true }
        let longest = String(repeating: "é", count: 128)  // 256 bytes
        #expect(sandbox.send(.POST, "/__sandbox/faults", body: #"{"key":"\#(longest)","fault":{}}"#).status == .created)
        let tooLong = sandbox.send(.POST, "/__sandbox/faults", body: #"{"key":"\#(longest)x","fault":{}}"#)
        #expect(tooLong.status == .badRequest)
        #expect(tooLong.message == "The key field must not exceed 256 bytes.")
    }

    @Test func timesNullMeansUntilCleared() throws {
        var sandbox = RouterHarness { $0.faults = true }
        let faults = try #require(sandbox.router.faults)
        #expect(sandbox.send(.POST, "/__sandbox/faults", body: #"{"key":"k","fault":{"delay_ms":5},"times":null}"#)
            .status == .created)
        for _ in 0..<50 {
            #expect(faults.noteRequest(key: "k", consultRules: true) == Fault(delayMs: 5))
        }
    }

    @Test func clearingAllOrOneKey() {
        var sandbox = RouterHarness { $0.faults = true }
        for key in ["a", "a", "b", "c/d"] {
            _ = sandbox.send(.POST, "/__sandbox/faults", body: #"{"key":"\#(key)","fault":{}}"#)
        }
        #expect(sandbox.send(.DELETE, "/__sandbox/faults/a").body == #"{"cleared":2}"#)
        #expect(sandbox.send(.DELETE, "/__sandbox/faults/a").body == #"{"cleared":0}"#)
        // Keys in the path are percent-decoded.
        #expect(sandbox.send(.DELETE, "/__sandbox/faults/c%2Fd").body == #"{"cleared":1}"#)
        #expect(sandbox.send(.DELETE, "/__sandbox/faults").body == #"{"cleared":1}"#)
        #expect(sandbox.send(.DELETE, "/__sandbox/faults").body == #"{"cleared":0}"#)
    }

    @Test func attemptsReadAndReset() throws {
        var sandbox = RouterHarness { $0.faults = true }
        let faults = try #require(sandbox.router.faults)
        #expect(sandbox.send(.GET, "/__sandbox/attempts/never").body == #"{"key":"never","attempts":0}"#)
        for key in ["a", "a", "b", "with space"] { _ = faults.noteRequest(key: key, consultRules: true) }
        #expect(sandbox.send(.GET, "/__sandbox/attempts/a").body == #"{"key":"a","attempts":2}"#)
        #expect(sandbox.send(.GET, "/__sandbox/attempts/with%20space").body
            == #"{"key":"with space","attempts":1}"#)
        #expect(sandbox.send(.DELETE, "/__sandbox/attempts/a").body == #"{"cleared":1}"#)
        #expect(sandbox.send(.DELETE, "/__sandbox/attempts/a").body == #"{"cleared":0}"#)
        #expect(sandbox.send(.GET, "/__sandbox/attempts/a").body == #"{"key":"a","attempts":0}"#)
        #expect(sandbox.send(.DELETE, "/__sandbox/attempts").body == #"{"cleared":2}"#)
        #expect(sandbox.send(.GET, "/__sandbox/attempts/b").body == #"{"key":"b","attempts":0}"#)
    }

    @Test(arguments: [
        (HTTPMethod.GET, "/__sandbox/faults", "POST, DELETE"),
        (.POST, "/__sandbox/faults/k", "DELETE"),
        (.GET, "/__sandbox/attempts", "DELETE"),
        (.POST, "/__sandbox/attempts/k", "GET, DELETE"),
    ])
    func wrongMethodsAre405(method: HTTPMethod, uri: String, allow: String) {
        var sandbox = RouterHarness { $0.faults = true }
        let answer = sandbox.send(method, uri)
        #expect(answer.status == .methodNotAllowed)
        #expect(answer.header("Allow") == allow)
    }
}

@Suite struct FaultTargetTests {
    @Test func viewsAreKeyedByTheirDecodedId() {
        guard case .view(let key) = Router.faultTarget(method: .GET, uri: "/payments/t%31?x=1") else {
            Issue.record("not a view")
            return
        }
        #expect(key == "t1")
    }

    @Test func createsAreKeyedByTheirPolicyId() {
        if case .create = Router.faultTarget(method: .POST, uri: "/payments?key=k") {} else {
            Issue.record("not a create")
        }
        #expect(Router.createFaultKey(ByteBuffer(string: #"{"policy_id":"tpol_1"}"#)) == "tpol_1")
        #expect(Router.createFaultKey(ByteBuffer(string: #"{"policy_id":""}"#)) == nil)
        #expect(Router.createFaultKey(ByteBuffer(string: #"{"policy_id":5}"#)) == nil)
        #expect(Router.createFaultKey(ByteBuffer(string: "garbage")) == nil)
        #expect(Router.createFaultKey(nil) == nil)
    }

    @Test(arguments: [
        (HTTPMethod.GET, "/payments", true),
        (.DELETE, "/payments/t1", true),
        (.GET, "/payments/", true),
        (.GET, "/payments/a/b", true),
        (.GET, "/__sandbox/health", false),
        (.POST, "/__sandbox/offers", false),
        (.GET, "/paymentsx", false),
    ])
    func whatRandomFaultsApplyTo(method: HTTPMethod, uri: String, isAPI: Bool) {
        #expect(Router.faultTarget(method: method, uri: uri).isAPI == isAPI)
    }
}
