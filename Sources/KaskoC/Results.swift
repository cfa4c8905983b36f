import Kasko

// Typed access to a finished call: the status, every member of the error
// object, and any top-level member of the payment, without a JSON parser.

/// Frees a result and every string it handed out.
///
/// Ownership: takes ownership of `result`; neither it nor any string read
/// from it may be used afterwards. Passing NULL does nothing.
/// Thread-safety: the caller must make sure no other thread is still
/// reading the result.
/// Added in 1.1.0.
@c(kasko_result_free)
public func kasko_result_free(_ result: OpaquePointer?) {
    guard let result else { return }
    Unmanaged<CallResult>.fromOpaque(UnsafeRawPointer(result)).release()
}

/// Returns the result's status: the same value the call that made it
/// returned.
///
/// Thread-safety: a result may be read from many threads at once.
/// Returns KASKO_ERR_INVALID_ARGUMENT for a NULL `result`.
/// Added in 1.1.0.
@c(kasko_result_status)
public func kasko_result_status(_ result: UnsafeRawPointer?) -> KaskoCStatus {
    CallResult.borrow(result).map { KaskoCStatus($0.status) } ?? .errInvalidArgument
}

/// Returns the result's JSON text. On KASKO_OK it is the payment object
/// exactly as the API sent it, otherwise the error object described at
/// kasko_payment_create() (whose members are also readable one by one).
///
/// Ownership: the string belongs to the result and is valid until
/// kasko_result_free(); do not free it. Copy it to keep it longer.
/// Thread-safety: a result may be read from many threads at once.
/// Returns NULL only for a NULL `result`.
/// Added in 1.1.0.
@c(kasko_result_json)
public func kasko_result_json(_ result: UnsafeRawPointer?) -> UnsafePointer<CChar>? {
    CallResult.borrow(result)?.json
}

/// Returns whether the call's request may have taken effect. It is
/// KASKO_OUTCOME_SUCCEEDED on KASKO_OK; otherwise the error object's
/// "outcome": KASKO_OUTCOME_NOT_SENT (no byte of it can have been written),
/// KASKO_OUTCOME_REJECTED (a 4xx answer) or KASKO_OUTCOME_UNKNOWN (it may
/// have taken effect: view the payment before creating it again).
///
/// Thread-safety: a result may be read from many threads at once.
/// Returns KASKO_OUTCOME_NOT_SENT for a NULL `result`.
/// Added in 1.1.0.
@c(kasko_result_outcome)
public func kasko_result_outcome(_ result: UnsafeRawPointer?) -> KaskoCOutcome {
    CallResult.borrow(result)?.outcome ?? .outcomeNotSent
}

/// Returns the HTTP status of the last response, e.g. 200 or 404. It is
/// there on success as on failure, and 0 when no HTTP response arrived
/// (refused before any I/O, a connection failure, a timeout before the
/// status line).
///
/// Thread-safety: a result may be read from many threads at once.
/// Returns 0 for a NULL `result`.
/// Added in 1.1.0.
@c(kasko_result_http_status)
public func kasko_result_http_status(_ result: UnsafeRawPointer?) -> CInt {
    CallResult.borrow(result)?.httpStatus ?? 0
}

/// Returns 1 if making the same call again may succeed and cannot do harm,
/// else 0. For a create, that means it was provably not sent. Always 0 on
/// success.
///
/// Thread-safety: a result may be read from many threads at once.
/// Returns 0 for a NULL `result`.
/// Added in 1.1.0.
@c(kasko_result_retryable)
public func kasko_result_retryable(_ result: UnsafeRawPointer?) -> CInt {
    CallResult.borrow(result)?.retryable == true ? 1 : 0
}

/// Returns how many attempts the call made. Retries are included and a
/// refused connection counts; it is 0 when the call was refused before any
/// I/O.
///
/// Thread-safety: a result may be read from many threads at once.
/// Returns 0 for a NULL `result`.
/// Added in 1.1.0.
@c(kasko_result_attempts)
public func kasko_result_attempts(_ result: UnsafeRawPointer?) -> CInt {
    CallResult.borrow(result)?.attempts ?? 0
}

/// Returns the call's wall time in microseconds, on a monotonic clock from
/// the call's start to its answer: retry waits included, and an event
/// hook's time for every attempt but the last. For a result of
/// kasko_payment_create_v2() or kasko_payment_get_v2() (success or
/// failure); 0 for a call refused before any I/O and for every other
/// result (an event's time is its "total_us" member).
///
/// Thread-safety: a result may be read from many threads at once.
/// Returns 0 for a NULL `result`.
/// Added in 1.2.0.
@c(kasko_result_total_time_us)
public func kasko_result_total_time_us(_ result: UnsafeRawPointer?) -> Int64 {
    CallResult.borrow(result)?.totalTimeMicroseconds ?? 0
}

/// Returns what went wrong, in English, or NULL on success. It is the error
/// object's "message", and never holds a key or a payment token.
///
/// Ownership: the string belongs to the result and is valid until
/// kasko_result_free(); do not free it.
/// Thread-safety: a result may be read from many threads at once.
/// Added in 1.1.0.
@c(kasko_result_message)
public func kasko_result_message(_ result: UnsafeRawPointer?) -> UnsafePointer<CChar>? {
    CallResult.borrow(result)?.message
}

/// Returns the response's X-Request-Id, to quote to support. It is there on
/// success as on failure, and NULL when the server sent none or no
/// response came.
///
/// Ownership: the string belongs to the result and is valid until
/// kasko_result_free(); do not free it.
/// Thread-safety: a result may be read from many threads at once.
/// Added in 1.1.0.
@c(kasko_result_request_id)
public func kasko_result_request_id(_ result: UnsafeRawPointer?) -> UnsafePointer<CChar>? {
    CallResult.borrow(result)?.requestID
}

/// Returns the id of the payment already pending for the policy, or NULL.
/// It is set after KASKO_ERR_PENDING_PAYMENT: view that payment, or wait
/// for it to settle, instead of creating another.
///
/// Ownership: the string belongs to the result and is valid until
/// kasko_result_free(); do not free it.
/// Thread-safety: a result may be read from many threads at once.
/// Added in 1.1.0.
@c(kasko_result_pending_payment_id)
public func kasko_result_pending_payment_id(_ result: UnsafeRawPointer?) -> UnsafePointer<CChar>? {
    CallResult.borrow(result)?.pendingPaymentID
}

/// Returns the JSON type of a top-level member of the result's object. The
/// object is the payment on success, the error object otherwise; the type of
/// member `name` is KASKO_JSON_NONE when there is no member of that name,
/// when the name appears more than once (which value would be the answer?),
/// or when an argument is NULL.
///
/// Thread-safety: a result may be read from many threads at once.
/// Added in 1.1.0.
@c(kasko_result_member_type)
public func kasko_result_member_type(_ result: UnsafeRawPointer?, _ name: UnsafePointer<CChar>?) -> KaskoCJSONType {
    guard let owner = CallResult.borrow(result), let key = memberName(name) else { return .jsonNone }
    return owner.type(of: key)
}

/// Reads a string member of the result's object. On KASKO_OK, for member
/// `name`, `*out_value` is its value,
/// unescaped, NUL-terminated UTF-8, and `*out_length` (if `out_length` is
/// not NULL) its length in bytes. The length tells the whole value also
/// when it holds a NUL byte (a JSON "\u0000"), where the C string stops.
///
/// Ownership: the string belongs to the result and is valid until
/// kasko_result_free(); do not free it. Reading it again gives the same
/// pointer.
/// Thread-safety: a result may be read from many threads at once.
///
/// Returns KASKO_OK; KASKO_ERR_INVALID_ARGUMENT when `result`, `name` or
/// `out_value` is NULL, when there is no member `name`, or when it is not a
/// string; KASKO_ERR_INVALID_RESPONSE when `name` appears more than once;
/// KASKO_ERR_INTERNAL when memory ran out. On failure `*out_value` and
/// `*out_length` are left as they were.
/// Added in 1.1.0.
@c(kasko_result_member_string)
public func kasko_result_member_string(
    _ result: UnsafeRawPointer?, _ name: UnsafePointer<CChar>?,
    _ out_value: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ out_length: UnsafeMutablePointer<UInt>?
) -> KaskoCStatus {
    guard let owner = CallResult.borrow(result), let key = memberName(name), let out_value else {
        return .errInvalidArgument
    }
    return handOut(owner.string(of: key), to: out_value, length: out_length)
}

/// Reads a member of the result's object as JSON text, whatever its type.
/// Member `name` may be an object such as "_links" or
/// "transaction_metadata", an array, or a scalar (strings quoted and
/// escaped). Numbers are written exactly as the API sent them.
///
/// Ownership: the text belongs to the result and is valid until
/// kasko_result_free(); do not free it.
/// Thread-safety: a result may be read from many threads at once.
///
/// Returns KASKO_OK; KASKO_ERR_INVALID_ARGUMENT when `result`, `name` or
/// `out_json` is NULL or there is no member `name`;
/// KASKO_ERR_INVALID_RESPONSE when `name` appears more than once;
/// KASKO_ERR_INTERNAL when memory ran out. On failure `*out_json` and
/// `*out_length` are left as they were.
/// Added in 1.1.0.
@c(kasko_result_member_json)
public func kasko_result_member_json(
    _ result: UnsafeRawPointer?, _ name: UnsafePointer<CChar>?,
    _ out_json: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ out_length: UnsafeMutablePointer<UInt>?
) -> KaskoCStatus {
    guard let owner = CallResult.borrow(result), let key = memberName(name), let out_json else {
        return .errInvalidArgument
    }
    return handOut(owner.text(of: key), to: out_json, length: out_length)
}

/// Reads a number member of the result's object as a 64-bit integer. On
/// KASKO_OK, `*out_value` is the value of member `name`. Only a number
/// written as an integer (no fraction, no exponent) within the range of
/// int64_t is read: nothing is rounded or truncated. Use
/// kasko_result_member_double() or kasko_result_member_json() for others.
///
/// Thread-safety: a result may be read from many threads at once.
///
/// Returns KASKO_OK; KASKO_ERR_INVALID_ARGUMENT when an argument is NULL,
/// there is no member `name`, it is not a number, or not an integer within
/// range; KASKO_ERR_INVALID_RESPONSE when `name` appears more than once.
/// On failure `*out_value` is left as it was.
/// Added in 1.1.0.
@c(kasko_result_member_int64)
public func kasko_result_member_int64(
    _ result: UnsafeRawPointer?, _ name: UnsafePointer<CChar>?, _ out_value: UnsafeMutablePointer<Int64>?
) -> KaskoCStatus {
    guard let owner = CallResult.borrow(result), let key = memberName(name), let out_value else {
        return .errInvalidArgument
    }
    return store(owner.value(of: key) { value in
        if case .number(let literal) = value { return TopLevelMembers.int64(literal) }
        return nil
    }, in: out_value)
}

/// Reads a number member of the result's object as the nearest double. On
/// KASKO_OK, `*out_value` is the value of member `name`.
///
/// Thread-safety: a result may be read from many threads at once.
///
/// Returns KASKO_OK; KASKO_ERR_INVALID_ARGUMENT when an argument is NULL,
/// there is no member `name`, it is not a number, or it is too large for a
/// double; KASKO_ERR_INVALID_RESPONSE when `name` appears more than once.
/// On failure `*out_value` is left as it was.
/// Added in 1.1.0.
@c(kasko_result_member_double)
public func kasko_result_member_double(
    _ result: UnsafeRawPointer?, _ name: UnsafePointer<CChar>?, _ out_value: UnsafeMutablePointer<Double>?
) -> KaskoCStatus {
    guard let owner = CallResult.borrow(result), let key = memberName(name), let out_value else {
        return .errInvalidArgument
    }
    return store(owner.value(of: key) { value in
        if case .number(let literal) = value { return TopLevelMembers.double(literal) }
        return nil
    }, in: out_value)
}

/// Reads a boolean member of the result's object. For member `name`,
/// `*out_value` is 1 for true, 0 for false.
///
/// Thread-safety: a result may be read from many threads at once.
///
/// Returns KASKO_OK; KASKO_ERR_INVALID_ARGUMENT when an argument is NULL,
/// there is no member `name`, or it is not true or false;
/// KASKO_ERR_INVALID_RESPONSE when `name` appears more than once. On
/// failure `*out_value` is left as it was.
/// Added in 1.1.0.
@c(kasko_result_member_bool)
public func kasko_result_member_bool(
    _ result: UnsafeRawPointer?, _ name: UnsafePointer<CChar>?, _ out_value: UnsafeMutablePointer<CInt>?
) -> KaskoCStatus {
    guard let owner = CallResult.borrow(result), let key = memberName(name), let out_value else {
        return .errInvalidArgument
    }
    return store(owner.value(of: key) { value -> CInt? in
        if case .bool(let flag) = value { return flag ? 1 : 0 }
        return nil
    }, in: out_value)
}

/// Makes an error result of the library's own shape, for a caller's own
/// refusals. It serves code that refuses an argument before calling the
/// library: a binding given a string with a
/// NUL byte, which a C string cannot carry, or a wrapper's own checks. Its
/// error object is what the library would have written: "outcome"
/// "not_sent", "attempts" 0, "retryable" false, "http_status" null, and
/// `message`. Callers then handle every error alike, from one shape.
///
/// `status` must be an error status (not KASKO_OK); `message` is
/// NUL-terminated UTF-8, at most 64 KiB. Otherwise the result made says
/// which argument was wrong, with KASKO_ERR_INVALID_ARGUMENT.
///
/// Ownership: `*out_result` belongs to the caller, who frees it with
/// kasko_result_free(). It is never NULL when `out_result` is not NULL (if
/// memory ran out, it is a static KASKO_ERR_INTERNAL result).
/// Thread-safety: safe from any thread.
///
/// Returns the result's status: `status`, or KASKO_ERR_INVALID_ARGUMENT
/// (NULL `out_result`, which is left alone; KASKO_OK or an unknown status;
/// a NULL or invalid `message`), or KASKO_ERR_INTERNAL.
/// Added in 1.1.0.
@c(kasko_result_new_error)
public func kasko_result_new_error(
    _ status: Int32, _ message: UnsafePointer<CChar>?, _ out_result: UnsafeMutablePointer<OpaquePointer?>?
) -> KaskoCStatus {
    guard let out_result else { return .errInvalidArgument }
    let error: KaskoError
    do throws(KaskoError) {
        guard let known = KaskoStatus(rawValue: status), known != .ok else {
            throw .invalidArgument("kasko_result_new_error: status \(status) is not an error status")
        }
        error = KaskoError(status: known, message: try CStrings.read(message, name: "message", limit: CStrings.maximumDocumentBytes))
    } catch {
        return CallResult.hand(error, to: out_result)
    }
    return CallResult.hand(error, to: out_result)
}

/// A member name from C: NUL-terminated UTF-8 (member names are short).
private func memberName(_ name: UnsafePointer<CChar>?) -> String? {
    try? CStrings.read(name, name: "name", limit: 4096)
}

private func handOut(
    _ member: CallResult.Member, to out: UnsafeMutablePointer<UnsafePointer<CChar>?>, length: UnsafeMutablePointer<UInt>?
) -> KaskoCStatus {
    switch member {
    case .refused(let status): return status
    case .found(let pointer, let count):
        out.pointee = pointer
        length?.pointee = UInt(count)
        return .ok
    }
}

private func store<T>(_ value: Result<T, CallResult.Refusal>, in out: UnsafeMutablePointer<T>) -> KaskoCStatus {
    switch value {
    case .failure(let refusal): return refusal.status
    case .success(let value):
        out.pointee = value
        return .ok
    }
}

/// Returns the ETag header of a policy view's answer (kasko_policy_get_v2()),
/// as the server sent it, or NULL: for any other result, or when the server
/// sent none. KASKO sends the policy's version id ("tpv_" and 28
/// characters), which an update or cancel of the policy sends back as
/// If-Match.
///
/// Ownership: the string belongs to the result and is valid until
/// kasko_result_free(); do not free it.
/// Thread-safety: a result may be read from many threads at once.
/// Added in 1.3.0.
@c(kasko_result_etag)
public func kasko_result_etag(_ result: UnsafeRawPointer?) -> UnsafePointer<CChar>? {
    CallResult.borrow(result)?.etag
}

/// Returns the Last-Modified header of a policy view's answer
/// (kasko_policy_get_v2()), an HTTP date as the server sent it, or NULL: for
/// any other result, or when the server sent none. An update or cancel of
/// the policy sends it back as If-Unmodified-Since.
///
/// Ownership: the string belongs to the result and is valid until
/// kasko_result_free(); do not free it.
/// Thread-safety: a result may be read from many threads at once.
/// Added in 1.3.0.
@c(kasko_result_last_modified)
public func kasko_result_last_modified(_ result: UnsafeRawPointer?) -> UnsafePointer<CChar>? {
    CallResult.borrow(result)?.lastModified
}
