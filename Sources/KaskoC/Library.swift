import Kasko
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Returns the library's version, "MAJOR.MINOR.PATCH", e.g. "1.0.0".
///
/// Ownership: the string is static; do not free it.
/// Thread-safety: safe to call from any thread at any time.
/// Compare with KASKO_VERSION_MAJOR to detect a header/library mismatch.
@c(kasko_version)
public func kasko_version() -> UnsafePointer<CChar> {
    CStrings.staticText(libraryVersionText)
}

// Spelled out as a literal so that the string is static; a test checks it
// against KaskoVersion.string.
private let libraryVersionText: StaticString = "1.0.0"

/// Returns the name of a status, e.g. "KASKO_ERR_NOT_FOUND", or
/// "KASKO_STATUS_UNKNOWN" for a value that is not a kasko_status.
///
/// Ownership: the string is static; do not free it.
/// Thread-safety: safe to call from any thread at any time.
@c(kasko_status_name)
public func kasko_status_name(_ status: Int32) -> UnsafePointer<CChar> {
    // The argument arrives as an integer, not the Swift enum: C may pass any
    // int, and an out-of-range enum value would be undefined behaviour here.
    switch KaskoCStatus(rawValue: status) {
    case .ok?: return CStrings.staticText("KASKO_OK")
    case .errInvalidArgument?: return CStrings.staticText("KASKO_ERR_INVALID_ARGUMENT")
    case .errBadRequest?: return CStrings.staticText("KASKO_ERR_BAD_REQUEST")
    case .errUnauthorized?: return CStrings.staticText("KASKO_ERR_UNAUTHORIZED")
    case .errNotFound?: return CStrings.staticText("KASKO_ERR_NOT_FOUND")
    case .errPendingPayment?: return CStrings.staticText("KASKO_ERR_PENDING_PAYMENT")
    case .errRateLimited?: return CStrings.staticText("KASKO_ERR_RATE_LIMITED")
    case .errServer?: return CStrings.staticText("KASKO_ERR_SERVER")
    case .errNetwork?: return CStrings.staticText("KASKO_ERR_NETWORK")
    case .errInvalidResponse?: return CStrings.staticText("KASKO_ERR_INVALID_RESPONSE")
    case .errInternal?: return CStrings.staticText("KASKO_ERR_INTERNAL")
    case nil: return CStrings.staticText("KASKO_STATUS_UNKNOWN")
    }
}

/// Frees a string that libkasko returned through an out parameter
/// (a payment object or an error object).
///
/// Ownership: takes ownership of `string`; it must not be used afterwards.
/// Use this function, not free(): the library and the caller may use
/// different allocators. Passing NULL does nothing.
/// Thread-safety: safe from any thread.
@c(kasko_string_free)
public func kasko_string_free(_ string: UnsafeMutablePointer<CChar>?) {
    free(string)
}
