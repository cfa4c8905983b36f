import Kasko

/// The result of every libkasko call that can fail.
///
/// The numeric values are part of the ABI and never change within major
/// version 1; new statuses may be added at the end, so handle unknown
/// values (for instance as KASKO_ERR_INTERNAL). kasko_status_name() gives
/// each value's name.
/// Added in 1.0.0.
@c(kasko_status)
public enum KaskoCStatus: Int32, CaseIterable {
    /// Success.
    case ok = 0
    /// The caller's input was refused before any network I/O: a NULL
    /// argument, malformed JSON, an unknown key, a bad payment id.
    case errInvalidArgument = 1
    /// The API answered HTTP 400: a field is invalid, the token does not
    /// belong to the policy, or the policy is already paid.
    case errBadRequest = 2
    /// The API answered HTTP 401 or 403: a key is wrong or lacks the right.
    case errUnauthorized = 3
    /// The API answered HTTP 404: unknown payment or payment provider.
    case errNotFound = 4
    /// The API answered HTTP 422: the policy already has a pending payment,
    /// whose id is in the error object's "pending_payment_id".
    case errPendingPayment = 5
    /// The API answered HTTP 429: too many requests.
    case errRateLimited = 6
    /// The API answered HTTP 5xx or another status it does not document.
    case errServer = 7
    /// No usable answer: DNS, connect, TLS, timeout or connection reset.
    /// See the error object's "outcome" before retrying a create.
    case errNetwork = 8
    /// The answer was not the documented JSON, or was larger than 1 MiB.
    case errInvalidResponse = 9
    /// A failure inside the library, such as memory exhaustion.
    case errInternal = 10

    init(_ status: KaskoStatus) {
        self = KaskoCStatus(rawValue: status.rawValue) ?? .errInternal
    }
}
