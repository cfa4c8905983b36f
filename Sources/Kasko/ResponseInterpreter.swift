/// What a call was, as far as interpreting its answer goes.
enum Operation {
    case createPayment
    case getPayment(id: String)

    var method: HTTPRequest.Method {
        switch self {
        case .createPayment: return .post
        case .getPayment: return .get
        }
    }
}

/// Turns an HTTP response into a payment (the body, validated and passed on
/// unchanged) or a `KaskoError`.
enum ResponseInterpreter {
    static func interpret(_ response: HTTPResponse, for operation: Operation) -> Result<PaymentJSON, KaskoError> {
        if (200...299).contains(response.status) {
            return validatePayment(response)
        }
        return .failure(error(for: response, operation: operation))
    }

    /// A success body must be a JSON object with `"object":"payment"` and a
    /// string `id`. Both the full and the restricted shapes qualify; any other
    /// fields are the API's business and are kept.
    static func validatePayment(_ response: HTTPResponse) -> Result<PaymentJSON, KaskoError> {
        func invalid(_ why: String) -> Result<PaymentJSON, KaskoError> {
            .failure(KaskoError(
                status: .invalidResponse, message: "response is not a payment object: \(why)",
                httpStatus: response.status, statusText: reasonPhrase(response.status),
                outcome: .unknown, requestID: response.requestID))
        }
        let scan: PaymentScan
        switch PaymentScanner.scan(response.body) {
        case .success(let result): scan = result
        case .failure(let error): return invalid("not valid JSON (\(error.message) at byte \(error.offset))")
        }
        if case .other(let type) = scan.topLevel { return invalid("expected an object, got \(type)") }
        if scan.object == .escaped || scan.id == .escaped {
            return validateEscapedPayment(response, invalid: invalid)
        }
        guard case .plain(let objectRange) = scan.object,
              response.body.withUnsafeBufferPointer({ PaymentScanner.bytes($0, objectRange, equal: "payment") }) else {
            return invalid("\"object\" is not \"payment\"")
        }
        guard case .plain(let idRange) = scan.id, !idRange.isEmpty else {
            return invalid("\"id\" is missing or not a string")
        }
        return .success(PaymentJSON(bytes: response.body, id: .range(idRange)))
    }

    /// The rare body whose "object" or "id" (or a key that might spell them)
    /// uses escapes: decoded by the full parser, which the scanner has already
    /// shown will accept it.
    static func validateEscapedPayment(
        _ response: HTTPResponse, invalid: (String) -> Result<PaymentJSON, KaskoError>
    ) -> Result<PaymentJSON, KaskoError> {
        guard let document = try? JSONParser.parse(response.body) else { return invalid("not valid JSON") }
        guard document["object"]?.stringValue == "payment" else {
            return invalid("\"object\" is not \"payment\"")
        }
        guard let id = document["id"]?.stringValue, !id.isEmpty else {
            return invalid("\"id\" is missing or not a string")
        }
        return .success(PaymentJSON(bytes: response.body, id: .decoded(id)))
    }

    static func error(for response: HTTPResponse, operation: Operation) -> KaskoError {
        let status = response.status
        // Error bodies are read leniently: the status code is authoritative,
        // and a proxy's HTML error page must not hide it.
        let document = try? JSONParser.parse(response.body)
        let serverStatus = document?["status"]?.stringValue
        let serverMessage = document?["message"]?.stringValue
        var serverErrors: String?
        if let errors = document?["errors"], case .array = errors {
            serverErrors = JSONWriter.serialize(errors)
        }

        let code: KaskoStatus
        switch status {
        case 400: code = .badRequest
        case 401, 403: code = .unauthorized
        case 404: code = .notFound
        case 422: code = .pendingPayment
        case 429: code = .rateLimited
        default: code = .server
        }
        let isPost = operation.method == .post
        let outcome: RequestOutcome
        let retryable: Bool
        switch status {
        case 429:
            outcome = .rejected
            retryable = true
        case 500...599:
            // The server may have acted before failing: a create might exist.
            outcome = isPost ? .unknown : .rejected
            retryable = !isPost && [500, 502, 503, 504].contains(status)
        default:
            outcome = .rejected
            retryable = false
        }

        return KaskoError(
            status: code,
            message: serverMessage ?? defaultMessage(status: status, operation: operation),
            httpStatus: status,
            statusText: serverStatus ?? reasonPhrase(status),
            pendingPaymentID: status == 422 ? serverMessage.flatMap(pendingPaymentID(in:)) : nil,
            retryable: retryable,
            outcome: outcome,
            attempts: 1,
            requestID: response.requestID,
            serverErrorsJSON: serverErrors)
    }

    static func defaultMessage(status: Int, operation: Operation) -> String {
        switch (status, operation) {
        case (404, .createPayment): return "payment provider could not be identified (HTTP 404)"
        case (404, .getPayment(let id)): return "payment \(id) was not found (HTTP 404)"
        case (401, _), (403, _): return "not authorised: check public_key and secret_key (HTTP \(status))"
        default: return "the API answered HTTP \(status) \(reasonPhrase(status) ?? "")"
        }
    }

    /// The id in "Policy - tpol_… already has pending payment - t9193….".
    static func pendingPaymentID(in message: String) -> String? {
        let marker = "pending payment - "
        guard let range = message.firstRange(of: marker) else { return nil }
        let id = message[range.upperBound...].prefix { character in
            character.isASCII && (character.isLetter || character.isNumber || character == "_" || character == "-")
        }
        return id.isEmpty ? nil : String(id)
    }

    static func reasonPhrase(_ status: Int) -> String? {
        switch status {
        case 200: return "OK"
        case 201: return "Created"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 409: return "Conflict"
        case 413: return "Payload Too Large"
        case 422: return "Unprocessable Entity"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return nil
        }
    }
}

/// A payment object as the API sent it: validated, otherwise untouched.
public struct PaymentJSON: Sendable {
    enum Identifier: Sendable {
        /// Where the id's characters are in `bytes` (it has no escapes).
        case range(Range<Int>)
        case decoded(String)
    }

    /// UTF-8 JSON text, exactly as received.
    public let bytes: [UInt8]
    let identifier: Identifier

    init(bytes: [UInt8], id: Identifier) {
        self.bytes = bytes
        self.identifier = id
    }

    /// The payment's id. Made on request: the C API never needs it.
    public var id: String {
        switch identifier {
        case .range(let range): return String(decoding: bytes[range], as: UTF8.self)
        case .decoded(let id): return id
        }
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }
}
