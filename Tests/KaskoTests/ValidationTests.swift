import Testing
@testable import Kasko

@Suite struct ConfigurationTests {
    @Test func appliesDefaults() throws {
        let configuration = try Configuration(json: #"{"public_key":"pk_test_abc"}"#)
        #expect(configuration.baseURL.text == "https://api.eu1.kaskocloud.com")
        #expect(configuration.timeoutMilliseconds == 60_000)
        #expect(configuration.connectTimeoutMilliseconds == 10_000)
        #expect(configuration.maxRetries == 2)
        #expect(configuration.secretKey == nil)
        #expect(configuration.proxy == nil)
    }

    @Test func normalisesTheBaseURL() throws {
        let configuration = try Configuration(json: #"{"public_key":"pk_test_abc","base_url":"HTTP://127.0.0.1:8420/api//"}"#)
        #expect(configuration.baseURL.text == "http://127.0.0.1:8420/api")
        #expect(configuration.baseURL.isLoopback)
    }

    @Test(arguments: [
        (#"{"public_key":"pk_test_abc","secret_key":"sk_live_abc"}"#, "public_key is a test key but secret_key is a live key"),
        (#"{"public_key":"pk_test_abc","base_url":"http://127.0.0.1.example.com"}"#, "not loopback"),
        (#"{"public_key":"pk_test_abc","base_url":"http://128.0.0.1"}"#, "not loopback"),
        (#"{"public_key":"pk_test_abc","base_url":"https://"}"#, "no host"),
        (#"{"public_key":"pk_test_abc","base_url":"https://[::1"}"#, "unterminated"),
        (#"{"public_key":"pk_test_a\u00a0b"}"#, "whitespace or a control character at position 9"),
        (#"{"public_key":"pk_test_a-b"}"#, "only letters and digits"),
        (#"{"public_key":"pk_test_abc","connect_timeout_ms":99999999999999999999999}"#, "whole number"),
        (#"{"public_key":"pk_test_abc","Public_Key":"pk_test_abc"}"#, "unknown configuration key \"Public_Key\""),
    ])
    func refusesWithAPreciseMessage(_ json: String, _ expected: String) {
        do {
            _ = try Configuration(json: json)
            Issue.record("accepted \(json)")
        } catch {
            #expect(error.status == .invalidArgument)
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }

    @Test func neverQuotesAKey() {
        for json in [
            #"{"public_key":"pk_test_abc","secret_key":"sk_live_SECRET1"}"#,
            #"{"public_key":"sk_test_SECRET2"}"#,
            #"{"public_key":"pk_test_abc","secret_key":"sk_test_SECRET 3"}"#,
        ] {
            do {
                _ = try Configuration(json: json)
                Issue.record("accepted \(json)")
            } catch {
                #expect(!error.json.contains("SECRET"), "\(error.json)")
            }
        }
    }

    @Test func redactsKeysInDescriptions() throws {
        let configuration = try Configuration(json: #"{"public_key":"pk_test_abc","secret_key":"sk_test_SECRET"}"#)
        #expect(!String(describing: configuration).contains("SECRET"))
    }
}

@Suite struct RequestValidationTests {
    @Test func rebuildsTheBodyInReferenceOrder() throws {
        let request = try PaymentRequest(json: #"{"policy_id":"tpol_1","method":"invoice","provider":"invoice","token":"t\"1"}"#)
        #expect(request.bodyJSON == #"{"token":"t\"1","provider":"invoice","method":"invoice","policy_id":"tpol_1"}"#)
    }

    @Test(arguments: ["t84223322f013e2287210b6295010fc6d", "a", "A-_9", String(repeating: "x", count: 128)])
    func acceptsPaymentIDs(_ id: String) throws {
        #expect(try PaymentID(id).value == id)
    }

    @Test(arguments: ["", "a/b", "a.b", "a b", "é", "%2e", String(repeating: "x", count: 129)])
    func refusesPaymentIDs(_ id: String) {
        #expect(throws: KaskoError.self) { try PaymentID(id) }
    }

    @Test func refusesControlCharactersAndOversizedFields() {
        #expect(throws: KaskoError.self) {
            try PaymentRequest(token: "a\u{7F}", provider: "invoice", method: "invoice", policyID: "tpol_1")
        }
        #expect(throws: KaskoError.self) {
            try PaymentRequest(token: String(repeating: "a", count: 4097), provider: "invoice", method: "invoice", policyID: "tpol_1")
        }
    }
}

@Suite struct ResponseInterpreterTests {
    func response(_ status: Int, _ body: String, requestID: String? = "req_1") -> HTTPResponse {
        HTTPResponse(status: status, body: Array(body.utf8), requestID: requestID, retryAfterSeconds: nil)
    }

    @Test func extractsThePendingPaymentFromTheReferenceMessage() {
        let message = "Policy - tpol_bddc5c1ecc1668d49ba51a44945b already has pending payment - t9193b464fa449e0b6cbdc654189619a3."
        #expect(ResponseInterpreter.pendingPaymentID(in: message) == "t9193b464fa449e0b6cbdc654189619a3")
        #expect(ResponseInterpreter.pendingPaymentID(in: "something else") == nil)
    }

    @Test(arguments: [
        (400, KaskoStatus.badRequest), (401, .unauthorized), (403, .unauthorized), (404, .notFound),
        (422, .pendingPayment), (429, .rateLimited), (500, .server), (503, .server), (409, .server), (302, .server),
    ])
    func mapsHTTPStatuses(_ http: Int, _ expected: KaskoStatus) {
        let error = ResponseInterpreter.error(for: response(http, #"{"status":"x","message":"m"}"#), operation: .createPayment)
        #expect(error.status == expected)
        #expect(error.httpStatus == http)
        #expect(error.requestID == "req_1")
    }

    @Test func aCreateThatFailedOnTheServerHasAnUnknownOutcome() {
        let create = ResponseInterpreter.error(for: response(502, "<html>bad gateway</html>"), operation: .createPayment)
        #expect(create.outcome == .unknown)
        #expect(!create.retryable)
        #expect(create.statusText == "Bad Gateway")
        let get = ResponseInterpreter.error(for: response(502, ""), operation: .getPayment(id: "t1"))
        #expect(get.retryable)
    }

    @Test func passesServerErrorsArraysOn() {
        let error = ResponseInterpreter.error(
            for: response(400, #"{"status":"Bad Request","message":"m","errors":[{"code":"invalid_value","field":"token"}]}"#),
            operation: .createPayment)
        #expect(error.json.hasSuffix(#","errors":[{"code":"invalid_value","field":"token"}]}"#))
    }

    @Test(arguments: [
        "", "not json", "[]", #"{"object":"refund","id":"r1"}"#, #"{"object":"payment"}"#, #"{"object":"payment","id":7}"#,
    ])
    func refusesSuccessBodiesThatAreNotPayments(_ body: String) {
        switch ResponseInterpreter.interpret(response(200, body), for: .getPayment(id: "t1")) {
        case .success: Issue.record("accepted \(body)")
        case .failure(let error):
            #expect(error.status == .invalidResponse)
            #expect(error.httpStatus == 200)
        }
    }

    @Test func readsEscapedAndDuplicateMembersLikeTheParser() throws {
        let escaped = try ResponseInterpreter.interpret(
            response(200, #"{"\u006fbject":"payment","i\u0064":"t\u0031"}"#), for: .createPayment).get()
        #expect(escaped.id == "t1")
        let duplicated = try ResponseInterpreter.interpret(
            response(200, #"{"object":"payment","id":"t1","object":"refund","id":7}"#), for: .createPayment).get()
        #expect(duplicated.id == "t1")
    }

    @Test(arguments: [
        [0xED, 0xA0, 0x80],  // a UTF-16 surrogate, encoded in UTF-8
        [0xC0, 0xAF],        // an overlong "/"
        [0xF4, 0x90, 0x80, 0x80],  // above U+10FFFF
        [0xE2, 0x82],        // a truncated sequence
        [0x80],              // a lone continuation byte
    ] as [[UInt8]])
    func refusesMalformedUTF8InPayments(_ sequence: [UInt8]) {
        let body = Array(#"{"object":"payment","id":"t1","x":""#.utf8) + sequence + Array(#""}"#.utf8)
        let outcome = ResponseInterpreter.interpret(
            HTTPResponse(status: 200, body: body, requestID: nil, retryAfterSeconds: nil), for: .createPayment)
        #expect(outcome.error?.status == .invalidResponse)
        #expect((try? JSONParser.parse(body)) == nil)
    }

    @Test func refusesNestingBeyondTheLimit() {
        let deep = #"{"object":"payment","id":"t1","x":"# + String(repeating: "[", count: 64) + String(repeating: "]", count: 64) + "}"
        #expect(ResponseInterpreter.interpret(response(200, deep), for: .createPayment).error?.status == .invalidResponse)
    }

    @Test func passesPaymentsThroughUnchanged() throws {
        let body = #"{ "object" : "payment", "id":"t1", "future_field": {"x": [1, 2]} }"#
        let payment = try ResponseInterpreter.interpret(response(200, body), for: .createPayment).get()
        #expect(payment.text == body)
        #expect(payment.id == "t1")
    }
}
