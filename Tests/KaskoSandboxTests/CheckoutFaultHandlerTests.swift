// Faults on the checkout routes through the connection handler, on an
// EmbeddedChannel: the create keys (a quote's integration_id, an offer's
// quote_token), a rule limited to one route, and drop after_body carrying
// an offer create out.

import Foundation
import NIOCore
import Testing
@testable import KaskoSandbox

private let quoteBody = #"{"item_id":"ins_sandbox_travel","subscription_plan_id":"pp_sandbox_single","#
    + #""integration_id":"in_sandbox_travel","data":{"trip_cost":1000,"policy_start_date":"2027-01-01"}}"#
private let v3 = ("Accept", "application/vnd.kasko.v3+json")
private let v2 = ("Accept", "application/vnd.kasko.v2+json")

private func faulty() throws -> EmbeddedConnection {
    try EmbeddedConnection { $0.faults = true }
}

private func quoteToken(on connection: EmbeddedConnection) throws -> String {
    try connection.send(.request("POST", "/quotes?key=pk_test_sandbox", headers: [v3], body: quoteBody))
    return try #require(try connection.responses().first?.object?["token"] as? String)
}

@Suite struct CheckoutFaultHandlerTests {
    @Test func aQuoteRuleIsKeyedByTheIntegrationId() throws {
        let connection = try faulty()
        defer { connection.finish() }
        #expect(connection.router.faults?.arm(key: "in_sandbox_travel", fault: Fault(status: 503), times: 1,
                                              id: "r", route: .quoteCreate) == true)
        try connection.send(.request("POST", "/quotes?key=pk_test_sandbox", headers: [v3], body: quoteBody))
        #expect(try connection.responses().first?.status == 503)
        #expect(try !quoteToken(on: connection).isEmpty)
        #expect(connection.router.faults?.attempts(key: "in_sandbox_travel") == 2)
    }

    @Test func dropAfterBodyStillMakesTheOffer() throws {
        let connection = try faulty()
        defer { connection.finish() }
        let token = try quoteToken(on: connection)
        #expect(connection.router.faults?.arm(key: token, fault: Fault(drop: .afterBody), times: 1, id: "r") == true)
        let body = #"{"quote_token":"\#(token)","first_name":"A","last_name":"B","email":"a@b","language":"de"}"#
        try connection.send(.request("POST", "/policies?key=pk_test_sandbox", headers: [v2], body: body))
        #expect(try connection.writes().isEmpty)
        #expect(!connection.isOpen)
        #expect(connection.router.store.counts().offers == 1)
    }

    @Test func aPolicyViewRuleLeavesTheOfferViewAlone() throws {
        let connection = try faulty()
        defer { connection.finish() }
        var rng = FastRandom()
        let made = connection.router.handle(
            SandboxRequest(method: .POST, uri: "/__sandbox/offers", headers: [:], body: nil), baseURL: "", rng: &rng)
        let policyId = try #require(JSONText.object(made.body)?["policy_id"] as? String)
        #expect(connection.router.faults?.arm(key: policyId, fault: Fault(status: 502), times: 1, id: "r",
                                              route: .policyView) == true)
        let secret = ("Authorization", "Bearer sk_test_sandbox")
        try connection.send(.request("GET", "/offers/" + policyId, headers: [secret]))
        try connection.send(.request("GET", "/policies/" + policyId, headers: [secret, v2]))
        try connection.send(.request("GET", "/policies/" + policyId, headers: [secret, v2]))
        let statuses = try connection.responses().map(\.status)
        #expect(statuses == [200, 502, 200])
    }
}
