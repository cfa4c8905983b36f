/// Every outcome of a library call. The raw values are the C ABI's
/// `kasko_status` values and never change within major version 1.
public enum KaskoStatus: Int32, Sendable, CaseIterable {
    case ok = 0
    /// Refused before any network I/O: the caller's input is wrong.
    case invalidArgument = 1
    /// HTTP 400.
    case badRequest = 2
    /// HTTP 401 or 403.
    case unauthorized = 3
    /// HTTP 404.
    case notFound = 4
    /// HTTP 422: the policy already has a pending payment.
    case pendingPayment = 5
    /// HTTP 429.
    case rateLimited = 6
    /// HTTP 5xx, or any other status the API does not document.
    case server = 7
    /// DNS, connect, TLS, timeout, connection reset.
    case network = 8
    /// The body is not the documented JSON, or is too large.
    case invalidResponse = 9
    /// A bug or resource exhaustion inside the library.
    case `internal` = 10
    /// A webhook's signature does not match its body and the secret
    /// (kasko_webhook_verify). Added in 1.3.0.
    case badSignature = 11
    /// An asynchronous call ended before its answer: cancelled by its
    /// caller, or its client freed with it in flight. Added in 1.4.0.
    case cancelled = 12

    /// The C enumerator's name, e.g. `KASKO_ERR_NOT_FOUND`.
    public var name: String { staticName.description }

    /// The same name as static text (`kasko_status_name` hands it to C).
    public var staticName: StaticString {
        switch self {
        case .ok: return "KASKO_OK"
        case .invalidArgument: return "KASKO_ERR_INVALID_ARGUMENT"
        case .badRequest: return "KASKO_ERR_BAD_REQUEST"
        case .unauthorized: return "KASKO_ERR_UNAUTHORIZED"
        case .notFound: return "KASKO_ERR_NOT_FOUND"
        case .pendingPayment: return "KASKO_ERR_PENDING_PAYMENT"
        case .rateLimited: return "KASKO_ERR_RATE_LIMITED"
        case .server: return "KASKO_ERR_SERVER"
        case .network: return "KASKO_ERR_NETWORK"
        case .invalidResponse: return "KASKO_ERR_INVALID_RESPONSE"
        case .internal: return "KASKO_ERR_INTERNAL"
        case .badSignature: return "KASKO_ERR_BAD_SIGNATURE"
        case .cancelled: return "KASKO_ERR_CANCELLED"
        }
    }
}
