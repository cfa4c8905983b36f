// Faults carried out by the connection handler (docs/sandbox-faults.md,
// "What the client sees"), on an EmbeddedChannel: delays by moving the
// embedded clock, connection faults by the channel closing.

import Foundation
import NIOCore
import Testing
@testable import KaskoSandbox

private func faulty(_ configure: (inout SandboxConfig) -> Void = { _ in }) throws -> EmbeddedConnection {
    try EmbeddedConnection {
        $0.faults = true
        configure(&$0)
    }
}

private func withFault(_ fault: String, _ method: String = "GET", _ target: String = "/__sandbox/health",
                       headers: [(String, String)] = [], body: String? = nil) -> String {
    .request(method, target, headers: [("X-Sandbox-Fault", fault)] + headers, body: body)
}

/// An offer made through the router the connection uses.
private func offer(on connection: EmbeddedConnection) -> (policyId: String, token: String) {
    var rng = FastRandom()
    let request = SandboxRequest(method: .POST, uri: "/__sandbox/offers", headers: [:], body: nil)
    let object = JSONText.object(connection.router.handle(request, baseURL: "", rng: &rng).body)
    return (object?["policy_id"] as? String ?? "", object?["token"] as? String ?? "")
}

@Suite struct FaultHandlerTests {
    @Test func statusWithRetryAfterAnswersInTheAPIsErrorShape() throws {
        let connection = try faulty()
        defer { connection.finish() }
        try connection.send(withFault(#"{"status":503,"retry_after":2}"#))
        let response = try #require(try connection.responses().first)
        #expect(response.status == 503)
        #expect(response.header("Retry-After") == "2")
        #expect(response.text == #"{"status":"Service Unavailable","message":"sandbox fault"}"#)
        #expect(response.header("Content-Type") == "application/json")
        #expect(response.header("X-Request-Id") != nil)
        #expect(connection.isOpen)
    }

    @Test func aStatusFaultTouchesNoState() throws {
        let connection = try faulty()
        defer { connection.finish() }
        let offer = offer(on: connection)
        let body = RouterHarness.paymentBody(token: offer.token, policyId: offer.policyId)
        try connection.send(withFault(#"{"status":500,"body":"raw text"}"#, "POST", "/payments?key=pk_test_sandbox",
                                      body: body))
        let faulted = try #require(try connection.responses().first)
        #expect(faulted.status == 500)
        #expect(faulted.text == "raw text")
        try connection.send(.request("POST", "/payments?key=pk_test_sandbox", body: body))
        #expect(try connection.responses().first?.status == 200)
    }

    @Test func closeAfterResponseAnswersThenClosesWithoutSaying() throws {
        let connection = try faulty()
        defer { connection.finish() }
        try connection.send(withFault(#"{"close":"after_response"}"#))
        let response = try #require(try connection.responses().first)
        #expect(response.status == 200)
        #expect(response.text == #"{"status":"ok"}"#)
        #expect(response.header("Connection") == nil)
        #expect(!connection.isOpen)
    }

    @Test func dropBeforeBodyClosesWithNothingAndCreatesNothing() throws {
        let connection = try faulty()
        defer { connection.finish() }
        let offer = offer(on: connection)
        let body = RouterHarness.paymentBody(token: offer.token, policyId: offer.policyId)
        try connection.send(withFault(#"{"drop":"before_body"}"#, "POST", "/payments?key=pk_test_sandbox", body: body))
        #expect(try connection.writes().isEmpty)
        #expect(!connection.isOpen)

        // The header form acts before the body, so the policy_id was never seen.
        #expect(connection.router.faults?.attempts(key: offer.policyId) == 0)
        // Nothing was bought: a fresh connection to the same sandbox can.
        let next = try EmbeddedConnection(router: connection.router)
        defer { next.finish() }
        try next.send(.request("POST", "/payments?key=pk_test_sandbox", body: body))
        #expect(try next.responses().first?.status == 200)
    }

    @Test func dropAfterBodyCarriesOutTheCreateButAnswersNothing() throws {
        let connection = try faulty()
        defer { connection.finish() }
        let offer = offer(on: connection)
        let body = RouterHarness.paymentBody(token: offer.token, policyId: offer.policyId)
        try connection.send(withFault(#"{"drop":"after_body"}"#, "POST", "/payments?key=pk_test_sandbox", body: body))
        #expect(try connection.writes().isEmpty)
        #expect(!connection.isOpen)

        #expect(connection.router.faults?.attempts(key: offer.policyId) == 1)
        let retry = try EmbeddedConnection(router: connection.router)
        defer { retry.finish() }
        try retry.send(.request("POST", "/payments?key=pk_test_sandbox", body: body))
        let refused = try #require(try retry.responses().first)
        #expect(refused.status == 400)
        #expect(refused.object?["message"] as? String == "Policy - \(offer.policyId) is already paid.")
    }

    @Test func resetClosesWithNoResponse() throws {
        let connection = try faulty()
        defer { connection.finish() }
        try connection.send(withFault(#"{"reset":true}"#))
        #expect(try connection.writes().isEmpty)
        #expect(!connection.isOpen)
    }

    @Test func aDelayHoldsTheAnswerForExactlyItsTime() throws {
        let connection = try faulty()
        defer { connection.finish() }
        try connection.send(withFault(#"{"delay_ms":200}"#))
        connection.advanceTime(by: .milliseconds(199))
        #expect(try connection.responses().isEmpty)
        connection.advanceTime(by: .milliseconds(1))
        #expect(try connection.responses().map(\.status) == [200])
        #expect(connection.isOpen)
    }

    @Test func aDelayedDropClosesOnlyAfterTheDelay() throws {
        let connection = try faulty()
        defer { connection.finish() }
        try connection.send(withFault(#"{"delay_ms":100,"drop":"before_body"}"#))
        connection.advanceTime(by: .milliseconds(99))
        #expect(connection.isOpen)
        connection.advanceTime(by: .milliseconds(1))
        #expect(!connection.isOpen)
        #expect(try connection.writes().isEmpty)
    }

    @Test func aDelayedCreateIsCarriedOutEvenWhenTheClientHasGone() throws {
        let connection = try faulty()
        defer { connection.finish() }
        let offer = offer(on: connection)
        let body = RouterHarness.paymentBody(token: offer.token, policyId: offer.policyId)
        try connection.send(withFault(#"{"delay_ms":100}"#, "POST", "/payments?key=pk_test_sandbox", body: body))
        connection.channel.close(promise: nil)
        connection.advanceTime(by: .milliseconds(100))
        #expect(try connection.writes().isEmpty)

        let retry = try EmbeddedConnection(router: connection.router)
        defer { retry.finish() }
        try retry.send(.request("POST", "/payments?key=pk_test_sandbox", body: body))
        #expect(try retry.responses().first?.object?["message"] as? String
            == "Policy - \(offer.policyId) is already paid.")
    }

    @Test func aClientGoneMidTrickleEndsIt() throws {
        let connection = try faulty()
        defer { connection.finish() }
        try connection.send(withFault(#"{"trickle_ms":10,"trickle_bytes":4}"#))
        #expect(try connection.writes().filter { !$0.isEmpty }.count == 1)
        connection.channel.close(promise: nil)
        connection.advanceTime(by: .seconds(1))
        #expect(try connection.writes().isEmpty)
    }

    @Test func anArmedDropBeforeBodyOnACreateActsOnceTheBodyIsRead() throws {
        let connection = try faulty()
        defer { connection.finish() }
        let offer = offer(on: connection)
        _ = connection.router.faults?.arm(key: offer.policyId, fault: Fault(drop: .beforeBody), times: 1, id: "r")
        let body = RouterHarness.paymentBody(token: offer.token, policyId: offer.policyId)
        try connection.send(.request("POST", "/payments?key=pk_test_sandbox", body: body))
        #expect(try connection.writes().isEmpty)
        #expect(!connection.isOpen)
        #expect(connection.router.faults?.attempts(key: offer.policyId) == 1)

        let next = try EmbeddedConnection(router: connection.router)
        defer { next.finish() }
        try next.send(.request("POST", "/payments?key=pk_test_sandbox", body: body))
        #expect(try next.responses().first?.status == 200)
    }

    @Test func aRequestPipelinedBehindADelayWaitsItsTurn() throws {
        let connection = try faulty()
        defer { connection.finish() }
        try connection.send(withFault(#"{"delay_ms":50,"status":502}"#) + .request("GET", "/__sandbox/health"))
        #expect(try connection.responses().isEmpty)
        connection.advanceTime(by: .milliseconds(50))
        #expect(try connection.responses().map(\.status) == [502, 200])
    }

    @Test func truncatedSendsHalfUnderTheFullLengthThenCloses() throws {
        let connection = try faulty()
        defer { connection.finish() }
        try connection.send(withFault(#"{"body":"truncated"}"#, "GET", "/payments/t1"))
        #expect(try connection.responses().isEmpty)
        let text = String(decoding: connection.leftover, as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        #expect(parts.count == 2)
        #expect(parts[0].hasPrefix("HTTP/1.1 200 OK"))
        let length = parts[0].split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        #expect(length > 0)
        #expect(parts[1].utf8.count == length / 2)
        #expect(parts[1].hasPrefix(#"{"object":"payment","id":"t1","#))
        #expect(!connection.isOpen)
    }

    @Test func oversizedIsExactly2MiBOfValidPaymentLikeJSON() throws {
        let connection = try faulty()
        defer { connection.finish() }
        try connection.send(withFault(#"{"body":"oversized"}"#, "GET", "/payments/t42"))
        let response = try #require(try connection.responses().first)
        #expect(response.status == 200)
        #expect(response.body.count == 2 << 20)
        #expect(response.object?["object"] as? String == "payment")
        #expect(response.object?["id"] as? String == "t42")
        #expect(connection.isOpen)
    }

    @Test(arguments: [
        (#"{"body":"non_json"}"#, FaultBodies.nonJSON),
        (#"{"body":"not_payment"}"#, #"{"object":"refund","id":"r1"}"#),
    ])
    func bodyFaultsAnswer200WithTheirBody(fault: String, body: String) throws {
        let connection = try faulty()
        defer { connection.finish() }
        try connection.send(withFault(fault, "GET", "/payments/t1"))
        let response = try #require(try connection.responses().first)
        #expect(response.status == 200)
        #expect(response.text == body)
        #expect(response.header("Content-Type") == "application/json")
    }

    @Test func trickleWritesTheWholeResponseAFewBytesAtATime() throws {
        let plain = try faulty()
        defer { plain.finish() }
        try plain.send(.request("GET", "/__sandbox/health"))
        let expectedLength = try plain.writes().map(\.count).reduce(0, +)

        let connection = try faulty()
        defer { connection.finish() }
        try connection.send(withFault(#"{"trickle_ms":10,"trickle_bytes":16}"#))
        // Empty writes (the end of a message) carry no bytes: not counted.
        var chunks = try connection.writes().filter { !$0.isEmpty }
        #expect(chunks.map(\.count) == [16])
        var ticks = 0
        while chunks.map(\.count).reduce(0, +) < expectedLength && ticks < 1_000 {
            connection.advanceTime(by: .milliseconds(10))
            let more = try connection.writes().filter { !$0.isEmpty }
            #expect(more.count == 1, "one write per interval")
            chunks += more
            ticks += 1
        }
        #expect(chunks.allSatisfy { $0.count <= 16 })
        #expect(chunks.map(\.count).reduce(0, +) == expectedLength)
        #expect(ticks == chunks.count - 1)
        #expect(ticks >= expectedLength / 16)
        let response = try #require(try connection.responses().first)
        #expect(response.text == #"{"status":"ok"}"#)
        // The connection stays usable, at full speed again.
        try connection.send(.request("GET", "/__sandbox/health"))
        #expect(try connection.responses().map(\.status) == [200])
    }

    @Test func headOmitsTheBodyOfAStatusFault() throws {
        let connection = try faulty()
        defer { connection.finish() }
        try connection.send(withFault(#"{"status":503}"#, "HEAD"))
        let response = try #require(try connection.responses(headRequest: true).first)
        #expect(response.status == 503)
        try connection.send(.request("GET", "/__sandbox/health"))
        #expect(try connection.responses().map(\.status) == [200])
        #expect(connection.leftover.isEmpty)
    }

    /// RFC 9110: no body, and for 204 no Content-Length either; the next
    /// response must start right after the head.
    @Test(arguments: [204, 304])
    func statusesWithoutABodySendNone(status: Int) throws {
        let connection = try faulty()
        defer { connection.finish() }
        try connection.send(withFault(#"{"status":\#(status)}"#) + .request("GET", "/__sandbox/health"))
        let responses = try connection.responses()
        #expect(responses.map(\.status) == [status, 200])
        #expect(responses.first?.header("Content-Length") == nil)
        #expect(responses.first?.body.isEmpty == true)
        #expect(responses.last?.text == #"{"status":"ok"}"#)
        #expect(connection.leftover.isEmpty)
    }

    @Test(arguments: [
        (#"{"bogus":1}"#, "X-Sandbox-Fault: Unknown fault field 'bogus'."),
        ("not json", "X-Sandbox-Fault: The fault must be a JSON object."),
        (#"{"status":99}"#, "X-Sandbox-Fault: The status field must be an integer from 200 to 599."),
    ])
    func aBadFaultHeaderIs400NamingTheProblem(fault: String, message: String) throws {
        let connection = try faulty()
        defer { connection.finish() }
        try connection.send(withFault(fault))
        let response = try #require(try connection.responses().first)
        #expect(response.status == 400)
        #expect(response.object?["message"] as? String == message)
        #expect(connection.isOpen)
    }

    @Test func twoFaultHeadersAre400() throws {
        let connection = try faulty()
        defer { connection.finish() }
        try connection.send(.request("GET", "/__sandbox/health",
                                     headers: [("X-Sandbox-Fault", "{}"), ("X-Sandbox-Fault", "{}")]))
        let response = try #require(try connection.responses().first)
        #expect(response.status == 400)
        #expect(response.object?["message"] as? String == "Send at most one X-Sandbox-Fault header.")
    }

    @Test func anArmedRuleAppliesToItsViewThenRunsOut() throws {
        let connection = try faulty()
        defer { connection.finish() }
        try connection.send(.request("POST", "/__sandbox/faults", body: #"{"key":"t7","fault":{"status":503},"times":2}"#))
        #expect(try connection.responses().map(\.status) == [201])
        for _ in 0..<3 {
            try connection.send(.request("GET", "/payments/t7"))
        }
        try connection.send(.request("GET", "/payments/t8"))
        #expect(try connection.responses().map(\.status) == [503, 503, 401, 401])
        try connection.send(.request("GET", "/__sandbox/attempts/t7"))
        #expect(try connection.responses().first?.text == #"{"key":"t7","attempts":3}"#)
    }

    @Test func aHeaderFaultOverridesARuleAndSparesIt() throws {
        let connection = try faulty()
        defer { connection.finish() }
        _ = connection.router.faults?.arm(key: "t7", fault: Fault(status: 503), times: 1, id: "r")
        try connection.send(withFault("{}", "GET", "/payments/t7"))
        try connection.send(.request("GET", "/payments/t7"))
        try connection.send(.request("GET", "/payments/t7"))
        #expect(try connection.responses().map(\.status) == [401, 503, 401])
        #expect(connection.router.faults?.attempts(key: "t7") == 3)
    }

    @Test func anArmedRuleOnACreateIsKeyedByItsPolicyId() throws {
        let connection = try faulty()
        defer { connection.finish() }
        let offer = offer(on: connection)
        _ = connection.router.faults?.arm(key: offer.policyId, fault: Fault(status: 502), times: 1, id: "r")
        let body = RouterHarness.paymentBody(token: offer.token, policyId: offer.policyId)
        try connection.send(.request("POST", "/payments?key=pk_test_sandbox", body: body))
        try connection.send(.request("POST", "/payments?key=pk_test_sandbox", body: body))
        #expect(try connection.responses().map(\.status) == [502, 200])
        #expect(connection.router.faults?.attempts(key: offer.policyId) == 2)
    }

    @Test func randomFaultsSpareTheSandboxEndpoints() throws {
        let connection = try faulty { $0.randomFaultProbability = 1 }
        defer { connection.finish() }
        for _ in 0..<20 {
            try connection.send(.request("GET", "/__sandbox/health"))
        }
        #expect(try connection.responses().map(\.status) == Array(repeating: 200, count: 20))
    }

    /// With probability 1 every API request gets one of the eight: each
    /// outcome must be one that a listed fault produces, never the plain answer
    /// (a 401 here) unless only delayed.
    @Test func randomFaultsAtProbabilityOneAlwaysFault() throws {
        var delayed = 0
        for _ in 0..<40 {
            let connection = try faulty { $0.randomFaultProbability = 1 }
            defer { connection.finish() }
            try connection.send(.request("GET", "/payments/t1"))
            var responses = try connection.responses()
            if responses.isEmpty && connection.isOpen {
                connection.advanceTime(by: .milliseconds(49))
                #expect(try connection.responses().isEmpty)
                connection.advanceTime(by: .milliseconds(1))
                responses = try connection.responses()
                #expect(responses.map(\.status) == [401])
                delayed += 1
                continue
            }
            if let response = responses.first {
                #expect([429, 500, 502, 503, 504, 200].contains(response.status))
                if response.status == 200 { #expect(response.text == FaultBodies.nonJSON) }
                if response.status == 429 { #expect(response.header("Retry-After") == "0") }
            } else {
                #expect(!connection.isOpen)  // the drop
            }
            #expect(connection.router.faults?.attempts(key: "t1") == 1)
        }
        #expect(delayed < 40)
    }
}

