// The connection handler through the server's real pipeline on an
// EmbeddedChannel: HTTP/1.x framing, keep-alive, the headers every response
// carries, and the protocol-level refusals.

import Testing
@testable import KaskoSandbox

@Suite struct HTTPHandlerTests {
    @Test func aRequestGetsTheRoutersAnswerWithTheCommonHeaders() throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        try connection.send(.request("GET", "/__sandbox/health"))
        let responses = try connection.responses()

        #expect(responses.count == 1)
        let response = try #require(responses.first)
        #expect(response.version == "HTTP/1.1")
        #expect(response.status == 200)
        #expect(response.text == #"{"status":"ok"}"#)
        #expect(response.header("Content-Type") == "application/json")
        #expect(response.header("Content-Length") == String(response.body.count))
        let requestId = response.header("X-Request-Id") ?? ""
        #expect(requestId.hasPrefix("req_") && requestId.count == 28 && consists(of: lowercaseHex, requestId.dropFirst(4)))
        #expect(response.header("Connection") == nil)
        #expect(connection.isOpen)
    }

    @Test func keepAliveServesACreateAfterAnOfferOnOneConnection() throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        try connection.send(.request("POST", "/__sandbox/offers"))
        let offer = try #require(try connection.responses().first)
        #expect(offer.status == 201)
        let policyId = try #require(offer.object?["policy_id"] as? String)
        let token = try #require(offer.object?["token"] as? String)
        #expect(connection.isOpen)

        try connection.send(.request(
            "POST", "/payments?key=pk_test_sandbox", headers: [("Authorization", "Bearer sk_test_sandbox")],
            body: RouterHarness.paymentBody(token: token, policyId: policyId)))
        let payment = try #require(try connection.responses().first)
        #expect(payment.status == 200)
        #expect(payment.object?["policy_id"] as? String == policyId)
        let id = try #require(payment.object?["id"] as? String)
        let links = payment.object?["_links"] as? [String: Any]
        #expect((links?["_self"] as? [String: Any])?["href"] as? String
            == EmbeddedConnection.baseURL + "/payments/" + id)
        #expect(payment.header("X-Request-Id") != offer.header("X-Request-Id"))
        #expect(connection.isOpen)
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        try connection.send(.request("GET", "/__sandbox/health") + .request("GET", "/nowhere")
            + .request("GET", "/payments/t1"))
        let statuses = try connection.responses().map(\.status)
        #expect(statuses == [200, 404, 401])
        #expect(connection.isOpen)
    }

    @Test func aRequestSplitAcrossWritesIsReassembled() throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        let request = Array(String.request("POST", "/__sandbox/payments/t1/settle", body: #"{"status":"ok"}"#).utf8)
        for byte in request {
            try connection.send([byte])
        }
        let response = try #require(try connection.responses().first)
        #expect(response.status == 404)
    }

    @Test func connectionCloseIsHonouredAndAnnounced() throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        try connection.send(.request("GET", "/__sandbox/health", headers: [("Connection", "close")]))
        let response = try #require(try connection.responses().first)
        #expect(response.status == 200)
        #expect(response.header("Connection") == "close")
        #expect(!connection.isOpen)
    }

    @Test func http10ClosesUnlessAskedToKeepAlive() throws {
        let plain = try EmbeddedConnection()
        defer { plain.finish() }
        try plain.send(.request("GET", "/__sandbox/health", version: "HTTP/1.0"))
        let closed = try #require(try plain.responses().first)
        #expect(closed.version == "HTTP/1.0")
        #expect(closed.header("Connection") == "close")
        #expect(!plain.isOpen)

        let kept = try EmbeddedConnection()
        defer { kept.finish() }
        try kept.send(.request("GET", "/__sandbox/health", headers: [("Connection", "keep-alive")], version: "HTTP/1.0"))
        let open = try #require(try kept.responses().first)
        #expect(open.header("Connection") == "keep-alive")
        #expect(kept.isOpen)
    }

    @Test func headAnnouncesTheLengthButSendsNoBody() throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        try connection.send(.request("HEAD", "/__sandbox/health"))
        let head = try #require(try connection.responses(headRequest: true).first)
        #expect(head.status == 405)
        #expect(head.header("Allow") == "GET")
        #expect(head.header("Content-Length") == String(#"{"status":"Method Not Allowed"}"#.utf8.count))
        // Nothing but the head: the next response starts right after it.
        try connection.send(.request("GET", "/__sandbox/health"))
        let next = try #require(try connection.responses().first)
        #expect(next.status == 200)
        #expect(connection.leftover.isEmpty)
    }

    @Test func expectContinueGetsTheInterimResponseFirst() throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        let body = #"{"status":"ok"}"#
        try connection.send("POST /__sandbox/payments/t1/settle HTTP/1.1\r\nHost: s\r\nExpect: 100-continue\r\n"
            + "Content-Length: \(body.utf8.count)\r\n\r\n")
        let interim = try connection.responses()
        #expect(interim.map(\.status) == [100])
        try connection.send(body)
        #expect(try connection.responses().map(\.status) == [404])
    }

    @Test func anOversizedBodyAnnouncedWithExpectIsRefusedAtOnce() throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        try connection.send("POST /payments?key=pk_test_sandbox HTTP/1.1\r\nHost: s\r\nExpect: 100-continue\r\n"
            + "Content-Length: \(HTTPHandler.maxBodyBytes + 1)\r\n\r\n")
        let response = try #require(try connection.responses().first)
        #expect(response.status == 413)
        #expect(response.text == #"{"status":"Payload Too Large","message":"The request body must not exceed 1 MiB."}"#)
        #expect(response.header("Connection") == "close")
        #expect(!connection.isOpen)
    }

    @Test func anOversizedBodyIsReadThenRefused() throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        let size = HTTPHandler.maxBodyBytes + 1
        try connection.send("POST /payments?key=pk_test_sandbox HTTP/1.1\r\nHost: s\r\nContent-Length: \(size)\r\n\r\n")
        try connection.send([UInt8](repeating: 0x20, count: size - 1))
        #expect(try connection.responses().isEmpty)
        try connection.send([0x20])
        let response = try #require(try connection.responses().first)
        #expect(response.status == 413)
        #expect(!connection.isOpen)
    }

    @Test func malformedHTTPIsAnsweredInJSONAndClosed() throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        try connection.send("NOT HTTP AT ALL\r\n\r\n")
        let response = try #require(try connection.responses().first)
        #expect(response.status == 400)
        #expect(response.text == #"{"status":"Bad Request","message":"Malformed HTTP request."}"#)
        #expect(response.header("X-Request-Id") != nil)
        #expect(!connection.isOpen)
    }

    @Test func headersTooLargeAre431() throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        try connection.send("GET /__sandbox/health HTTP/1.1\r\nHost: s\r\nX-Big: "
            + String(repeating: "a", count: 200_000) + "\r\n\r\n")
        let response = try #require(try connection.responses().first)
        #expect(response.status == 431)
        #expect(response.object?["status"] as? String == "Request Header Fields Too Large")
        #expect(!connection.isOpen)
    }

    @Test func withoutFaultsTheFaultHeaderIsIgnoredEvenMalformed() throws {
        let connection = try EmbeddedConnection()
        defer { connection.finish() }
        for value in [#"{"status":503}"#, #"{"drop":"before_body"}"#, "not json"] {
            try connection.send(.request("GET", "/__sandbox/health", headers: [("X-Sandbox-Fault", value)]))
            #expect(try connection.responses().map(\.status) == [200])
        }
        #expect(connection.isOpen)
    }
}
