/// Whether a failed call may have taken effect on the server. This is what a
/// caller needs to decide between retrying and checking first: a payment whose
/// outcome is `unknown` may exist, and creating it again could charge twice.
public enum RequestOutcome: String, Sendable {
    /// The request never left this process or never reached the server.
    case notSent = "not_sent"
    /// The server answered and did not carry the request out.
    case rejected = "rejected"
    /// The request was sent and no usable answer came back.
    case unknown = "unknown"
}

/// Every failure of a library call, in one shape. Its `json` is the error
/// object that the C ABI hands out.
public struct KaskoError: Error, Sendable {
    public var status: KaskoStatus
    public var message: String
    /// The HTTP status code, nil when no response arrived.
    public var httpStatus: Int?
    /// The server's `status` text (or the standard reason phrase).
    public var statusText: String?
    /// Extracted from a 422 message: the payment that blocks a new one.
    public var pendingPaymentID: String?
    public var retryable: Bool
    public var outcome: RequestOutcome
    public var attempts: Int
    /// The call's wall time in microseconds (not in the error object): set
    /// for a typed result or when an event hook is set, else 0.
    public var totalTimeMicroseconds: Int64 = 0
    /// The response's `X-Request-Id`, to quote to support.
    public var requestID: String?
    /// A server `errors` array, passed on.
    public var serverErrors: JSONValue?
    /// `serverErrors` as JSON text.
    public var serverErrorsJSON: String? { serverErrors.map(JSONWriter.serialize) }

    public init(
        status: KaskoStatus,
        message: String,
        httpStatus: Int? = nil,
        statusText: String? = nil,
        pendingPaymentID: String? = nil,
        retryable: Bool = false,
        outcome: RequestOutcome = .notSent,
        attempts: Int = 0,
        requestID: String? = nil,
        serverErrors: JSONValue? = nil
    ) {
        self.status = status
        self.message = message
        self.httpStatus = httpStatus
        self.statusText = statusText
        self.pendingPaymentID = pendingPaymentID
        self.retryable = retryable
        self.outcome = outcome
        self.attempts = attempts
        self.requestID = requestID
        self.serverErrors = serverErrors
    }

    /// An attempt's failure as `OutcomeRules` judged it.
    init(
        verdict: Verdict, message: String, httpStatus: Int? = nil, statusText: String? = nil,
        pendingPaymentID: String? = nil, requestID: String? = nil, serverErrors: JSONValue? = nil
    ) {
        self.init(
            status: verdict.status, message: message, httpStatus: httpStatus, statusText: statusText,
            pendingPaymentID: pendingPaymentID, retryable: verdict.retryable, outcome: verdict.outcome,
            requestID: requestID, serverErrors: serverErrors)
    }

    /// A request id is quoted to support; anything longer is not one.
    static let maximumRequestIDBytes = 200

    /// At most `bytes` UTF-8 bytes of `text`, whole characters only.
    static func prefix(_ text: String, bytes: Int) -> String {
        guard text.utf8.count > bytes else { return text }
        var result = ""
        for character in text {
            guard result.utf8.count + character.utf8.count <= bytes else { break }
            result.append(character)
        }
        return result
    }

    /// Without the client's keys or the call's secrets in any text that may
    /// have come from a server. A pending payment id that held one is no
    /// longer a payment id, and is dropped.
    func redacted(by redactor: Redactor) -> KaskoError {
        var copy = self
        copy.message = redactor.redact(message)
        copy.statusText = redactor.redact(statusText)
        copy.requestID = requestID.map(redactor.requestID)
        copy.serverErrors = serverErrors.map { redactor.redact($0) }
        if let pending = pendingPaymentID, redactor.redact(pending) != pending {
            copy.pendingPaymentID = nil
        }
        return copy
    }

    /// A caller's mistake, caught before any I/O.
    public static func invalidArgument(_ message: String) -> KaskoError {
        KaskoError(status: .invalidArgument, message: message)
    }

    public static func `internal`(_ message: String) -> KaskoError {
        KaskoError(status: .internal, message: message)
    }

    /// The error object: the same keys, in the same order, every time, so a
    /// caller can read any field without checking that it exists.
    public var json: String {
        var object = JSONObjectWriter()
        object.add("object", string: "error")
        object.add("code", string: status.name)
        object.add("http_status", int: httpStatus)
        object.add("status", string: statusText)
        object.add("message", string: message)
        object.add("pending_payment_id", string: pendingPaymentID)
        object.add("retryable", bool: retryable)
        object.add("outcome", string: outcome.rawValue)
        object.add("attempts", int: attempts)
        object.add("request_id", string: requestID)
        if let serverErrorsJSON {
            object.add("errors", rawJSON: serverErrorsJSON)
        }
        return object.text
    }
}
