import Kasko
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Returns the library's version, "MAJOR.MINOR.PATCH", e.g. "1.1.0".
/// Compare it with KASKO_VERSION, the version of the header compiled
/// against, or kasko_version_number() with KASKO_VERSION_NUMBER, to
/// detect a header/library mismatch.
///
/// Ownership: the string is static; do not free it.
/// Thread-safety: safe to call from any thread at any time.
/// Added in 1.0.0.
@c(kasko_version)
public func kasko_version() -> UnsafePointer<CChar> {
    CStrings.staticText(KaskoVersion.text)
}

/// Returns the name of a status, e.g. "KASKO_ERR_NOT_FOUND". A value that
/// is not a kasko_status is named "KASKO_STATUS_UNKNOWN".
///
/// Ownership: the string is static; do not free it.
/// Thread-safety: safe to call from any thread at any time.
/// Added in 1.0.0.
@c(kasko_status_name)
public func kasko_status_name(_ status: Int32) -> UnsafePointer<CChar> {
    // The argument arrives as an integer, not the Swift enum: C may pass any
    // int, and an out-of-range enum value would be undefined behaviour here.
    CStrings.staticText(KaskoStatus(rawValue: status)?.staticName ?? "KASKO_STATUS_UNKNOWN")
}

/// Returns the library's version as one number, e.g. 1001000 for 1.1.0.
/// It is MAJOR * 1000000 + MINOR * 1000 + PATCH, as SQLITE_VERSION_NUMBER
/// and LIBCURL_VERSION_NUM are. Compare it with KASKO_VERSION_NUMBER, the
/// version of the header compiled against: a library at least as new as
/// the header has every function the header declares.
///
/// Thread-safety: safe to call from any thread at any time.
/// Added in 1.1.0.
@c(kasko_version_number)
public func kasko_version_number() -> CInt {
    CInt(KaskoVersion.number)
}

/// Returns the name of an outcome, e.g. "KASKO_OUTCOME_NOT_SENT". A value
/// that is not a kasko_outcome is named "KASKO_OUTCOME_INVALID". The
/// error object spells the same outcomes in lower case without the prefix
/// ("not_sent").
///
/// Ownership: the string is static; do not free it.
/// Thread-safety: safe to call from any thread at any time.
/// Added in 1.1.0.
@c(kasko_outcome_name)
public func kasko_outcome_name(_ outcome: Int32) -> UnsafePointer<CChar> {
    switch KaskoCOutcome(rawValue: outcome) {
    case .outcomeSucceeded?: return CStrings.staticText("KASKO_OUTCOME_SUCCEEDED")
    case .outcomeNotSent?: return CStrings.staticText("KASKO_OUTCOME_NOT_SENT")
    case .outcomeRejected?: return CStrings.staticText("KASKO_OUTCOME_REJECTED")
    case .outcomeUnknown?: return CStrings.staticText("KASKO_OUTCOME_UNKNOWN")
    case nil: return CStrings.staticText("KASKO_OUTCOME_INVALID")
    }
}

/// Frees a string that libkasko handed out through an out parameter. Such a
/// string is a payment object or an error object.
///
/// Ownership: takes ownership of `string`; it must not be used afterwards.
/// Use this function, not free(): the library and the caller may use
/// different allocators. Passing NULL does nothing.
/// Thread-safety: safe from any thread.
/// Added in 1.0.0.
@c(kasko_string_free)
public func kasko_string_free(_ string: UnsafeMutablePointer<CChar>?) {
    free(string)
}
