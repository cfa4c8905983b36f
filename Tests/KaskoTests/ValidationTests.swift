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
        // Ports are ASCII digits: Int() alone would take "+8080".
        (#"{"public_key":"pk_test_abc","base_url":"http://127.0.0.1:+8080"}"#, "port must be a number"),
        (#"{"public_key":"pk_test_abc","base_url":"http://127.0.0.1:08080x"}"#, "port must be a number"),
        (#"{"public_key":"pk_test_abc","base_url":"http://127.0.0.1:0"}"#, "port must be a number"),
        (#"{"public_key":"pk_test_abc","base_url":"http://127.0.0.1:65536"}"#, "port must be a number"),
        (#"{"public_key":"pk_test_abc","base_url":"http://127.0.0.1:"}"#, "port must be a number"),
        (#"{"public_key":"pk_test_abc","base_url":"http://127.0.0.1:\uff18\uff10"}"#, "port must be a number"),
        (#"{"public_key":"pk_test_abc","base_url":"https://a%2eb"}"#, "host may contain only"),
        (#"{"public_key":"pk_test_abc","base_url":"https://[::1g]"}"#, "IPv6"),
        (#"{"public_key":"pk_test_abc","proxy":"http://127.0.0.1:+3128"}"#, "port must be a number"),
        // Plain http never leaves the host, not even through a proxy.
        (#"{"public_key":"pk_test_abc","base_url":"http://127.0.0.1:1","proxy":"http://10.1.2.3:3128"}"#, "loopback"),
        (#"{"public_key":"pk_test_abc","ca_bundle":"/"}"#, "not a regular file"),
        (#"{"public_key":"pk_test_abc","ca_bundle":"/dev/zero"}"#, "not a regular file"),
        (#"{"public_key":"pk_test_abc","ca_bundle":"/etc/hostname"}"#, "no PEM certificate"),
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

    @Test func acceptsLoopbackProxiesForPlainHTTPAndAnyForHTTPS() throws {
        let local = try Configuration(json: #"{"public_key":"pk_test_abc","base_url":"http://127.0.0.1:1","proxy":"http://localhost:3128"}"#)
        #expect(local.proxy == "http://localhost:3128")
        let remote = try Configuration(json: #"{"public_key":"pk_test_abc","base_url":"https://api.example.com","proxy":"http://10.1.2.3:3128"}"#)
        #expect(remote.proxy == "http://10.1.2.3:3128")
        #expect(try Configuration(json: #"{"public_key":"pk_test_abc","base_url":"https://127.0.0.1:00443"}"#).baseURL.usesTLS)
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
    let create = Operation.createPayment(policyID: "tpol_1")

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
        let error = ResponseInterpreter.failure(for: response(http, #"{"status":"x","message":"m"}"#), operation: create).error
        #expect(error.status == expected)
        #expect(error.httpStatus == http)
        #expect(error.requestID == "req_1")
    }

    @Test func aCreateThatFailedOnTheServerHasAnUnknownOutcome() {
        let create = ResponseInterpreter.failure(for: response(502, "<html>bad gateway</html>"), operation: create).error
        #expect(create.outcome == .unknown)
        #expect(!create.retryable)
        #expect(create.statusText == "Bad Gateway")
        let get = ResponseInterpreter.failure(for: response(502, ""), operation: .getPayment(id: "t1")).error
        #expect(get.retryable)
    }

    @Test func passesServerErrorsArraysOn() {
        let error = ResponseInterpreter.failure(
            for: response(400, #"{"status":"Bad Request","message":"m","errors":[{"code":"invalid_value","field":"token"}]}"#),
            operation: create).error
        #expect(error.json.hasSuffix(#","errors":[{"code":"invalid_value","field":"token"}]}"#))
    }

    @Test(arguments: [
        "", "not json", "[]", #"{"object":"refund","id":"r1"}"#, #"{"object":"payment"}"#, #"{"object":"payment","id":7}"#,
    ])
    func refusesSuccessBodiesThatAreNotPayments(_ body: String) {
        switch ResponseInterpreter.interpret(response(200, body), for: .getPayment(id: "t1")) {
        case .success: Issue.record("accepted \(body)")
        case .failure(let failed):
            #expect(failed.error.status == .invalidResponse)
            #expect(failed.error.outcome == .unknown)
            #expect(failed.error.httpStatus == 200)
        }
    }

    @Test func readsEscapedMembersLikeTheParser() throws {
        let escaped = try ResponseInterpreter.interpret(
            response(200, #"{"\u006fbject":"payment","i\u0064":"t\u0031"}"#), for: .getPayment(id: "t1")).get()
        #expect(escaped.id == "t1")
    }

    /// Readers disagree on which of two members to believe (Python, Go and
    /// JavaScript take the last), so a payment that says two things is refused.
    @Test(arguments: [
        #"{"object":"payment","id":"t1","object":"refund"}"#,
        #"{"object":"payment","id":"t1","id":"t2"}"#,
        #"{"object":"payment","id":"t2","id":"t1"}"#,
        #"{"object":"payment","id":"t1","id":7}"#,
        #"{"object":"payment","\u0069d":"t1","id":"t2"}"#,
    ])
    func refusesDuplicatedWatchedMembers(_ body: String) {
        for operation in [Operation.getPayment(id: "t1"), create] {
            let result = ResponseInterpreter.interpret(response(200, body), for: operation)
            #expect(result.failed?.error.status == .invalidResponse, "\(body)")
            #expect(result.failed?.error.message.contains("appears twice") == true, "\(body)")
        }
    }

    /// "policy_id" is checked, and so watched for a second one, by a create
    /// only; a view checks "object" and "id".
    @Test(arguments: [
        #"{"object":"payment","id":"t1","policy_id":"tpol_1","policy_id":"tpol_2"}"#,
        #"{"object":"payment","id":"t1","p\u006flicy_id":"tpol_1","policy_id":"tpol_1"}"#,
    ])
    func aCreateRefusesADuplicatedPolicyID(_ body: String) {
        let result = ResponseInterpreter.interpret(response(200, body), for: create)
        #expect(result.failed?.error.status == .invalidResponse, "\(body)")
        #expect(result.failed?.error.message.contains("appears twice") == true, "\(body)")
    }

    @Test(arguments: [
        #"{"object":"payment","id":"t2"}"#, #"{"object":"payment","id":"t1x"}"#, #"{"object":"payment","id":"T1"}"#,
        #"{"object":"payment","id":"\u0074\u0032"}"#,
    ])
    func refusesAViewOfAnotherPayment(_ body: String) {
        let result = ResponseInterpreter.interpret(response(200, body), for: .getPayment(id: "t1"))
        #expect(result.failed?.error.status == .invalidResponse)
        #expect(result.failed?.error.outcome == .unknown)
        #expect(result.failed?.error.message.contains("not the payment asked for") == true)
    }

    @Test(arguments: [
        (#"{"object":"payment","id":"t9","policy_id":"tpol_2"}"#, false),
        (#"{"object":"payment","id":"t9","policy_id":"tpol_\u0032"}"#, false),
        (#"{"object":"payment","id":"t9","policy_id":7}"#, false),
        (#"{"object":"payment","id":"t9","policy_id":"tpol_1"}"#, true),
        (#"{"object":"payment","id":"t9","policy_id":"tpol_\u0031"}"#, true),
        (#"{"object":"payment","id":"t9","policy_id":null}"#, true),
        (#"{"object":"payment","id":"t9"}"#, true),  // the restricted object has no policy_id
    ])
    func aCreateMustAnswerForThePolicyPaid(_ body: String, _ accepted: Bool) {
        let result = ResponseInterpreter.interpret(response(200, body), for: create)
        #expect((result.failed == nil) == accepted, "\(body)")
        if !accepted { #expect(result.failed?.error.outcome == .unknown) }
    }

    @Test(arguments: [
        ("already has pending payment - t9193b464fa449e0b6cbdc654189619a3.", "t9193b464fa449e0b6cbdc654189619a3"),
        ("already has pending payment - t_1-2", "t_1-2"),
        ("already has pending payment - " + String(repeating: "a", count: 5000) + ".", nil),
        ("already has pending payment - t12$34.", nil),
        ("already has pending payment - ../x", nil),
        ("already has pending payment - ", nil),
        ("already has pending payment - t12 34.", nil),
        ("already has pending payment - t1234. Pay it first.", nil),
        ("already has pending payment - t1234.  ", "t1234"),
    ] as [(String, String?)])
    func aPendingPaymentIDIsOneThatCanBeViewed(_ message: String, _ expected: String?) {
        #expect(ResponseInterpreter.pendingPaymentID(in: message) == expected)
    }

    @Test(arguments: [
        ([], nil), (Array("\r".utf8), nil), (Array("  \t".utf8), nil), (Array(" req_1 \r\n".utf8), "req_1"),
        (Array("req_2".utf8), "req_2"),
    ] as [([UInt8], String?)])
    func requestIDsAreTrimmedAndEmptyIsNone(_ bytes: [UInt8], _ expected: String?) {
        #expect(HTTPResponse.headerText(bytes) == expected)
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
            HTTPResponse(status: 200, body: body, requestID: nil, retryAfterSeconds: nil), for: create)
        #expect(outcome.failed?.error.status == .invalidResponse)
        #expect((try? JSONParser.parse(body)) == nil)
    }

    @Test func refusesNestingBeyondTheLimit() {
        let deep = #"{"object":"payment","id":"t1","x":"# + String(repeating: "[", count: 64) + String(repeating: "]", count: 64) + "}"
        #expect(ResponseInterpreter.interpret(response(200, deep), for: create).failed?.error.status == .invalidResponse)
    }

    @Test func passesPaymentsThroughUnchanged() throws {
        let body = #"{ "object" : "payment", "id":"t1", "future_field": {"x": [1, 2]} }"#
        let payment = try ResponseInterpreter.interpret(response(200, body), for: create).get()
        #expect(payment.text == body)
        #expect(payment.id == "t1")
    }
}

extension Result where Failure == FailedAttempt {
    var failed: FailedAttempt? {
        if case .failure(let failure) = self { return failure }
        return nil
    }
}
