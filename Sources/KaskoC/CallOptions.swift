import Kasko

/// What a `kasko_call_options *` points at.
final class CallOptionsBox {
    var options = CallOptions()

    static func borrow(_ pointer: UnsafeRawPointer?) -> CallOptionsBox? {
        pointer.map { Unmanaged<CallOptionsBox>.fromOpaque($0).takeUnretainedValue() }
    }
}

/// Makes an empty set of per-call options. The client's settings apply
/// until an option is set. Pass it to any call that takes `options`; one
/// set may serve many calls.
///
/// A setter given an invalid value returns KASKO_ERR_INVALID_ARGUMENT and
/// remembers why: every call made with these options then fails with
/// KASKO_ERR_INVALID_ARGUMENT (nothing is sent; outcome "not_sent") and a
/// message that says exactly what is wrong, until that option is set again
/// to a valid value. So an unchecked setter never leaves a silent default,
/// and the setters' statuses may be ignored (kasko_call_options_check()
/// tells the reason before any call).
///
/// Ownership: the caller owns the options and frees them with
/// kasko_call_options_free(). A call reads them only while it runs; they
/// may be changed or freed as soon as it returns.
/// Thread-safety: many calls on many threads may read one set at once, as
/// long as no thread changes it meanwhile.
/// Returns NULL only if memory ran out.
/// Added in 1.1.0.
@c(kasko_call_options_new)
public func kasko_call_options_new() -> OpaquePointer? {
    OpaquePointer(Unmanaged.passRetained(CallOptionsBox()).toOpaque())
}

/// Frees a set of per-call options.
///
/// Ownership: takes ownership of `options`. Passing NULL does nothing.
/// Thread-safety: no call may be using them.
/// Added in 1.1.0.
@c(kasko_call_options_free)
public func kasko_call_options_free(_ options: OpaquePointer?) {
    guard let options else { return }
    Unmanaged<CallOptionsBox>.fromOpaque(UnsafeRawPointer(options)).release()
}

/// Sets the call's time limit per attempt, in milliseconds. It replaces the
/// client's "timeout_ms": from 1 to 3600000, or 0 for the client's again.
/// A retried view may take several attempts, each within the limit.
///
/// Thread-safety: not while a call reads these options.
/// Returns KASKO_OK; KASKO_ERR_INVALID_ARGUMENT for NULL `options` or a
/// value out of range (remembered: see kasko_call_options_new()).
/// Added in 1.1.0.
@c(kasko_call_options_set_timeout_ms)
@discardableResult
public func kasko_call_options_set_timeout_ms(_ options: OpaquePointer?, _ timeout_ms: CLong) -> KaskoCStatus {
    set(options) { (options: inout CallOptions) throws(KaskoError) in try options.setTimeout(milliseconds: timeout_ms) }
}

/// Sets the W3C Trace Context "traceparent" header of the call. It is sent
/// on every attempt, e.g.
/// "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01": version,
/// trace id, parent id and flags in lower-case hex, ids not all zeros,
/// version not "ff" (https://www.w3.org/TR/trace-context/). NULL removes
/// it.
///
/// Ownership: the value is copied; the library keeps no pointer to it.
/// Thread-safety: not while a call reads these options.
/// Returns KASKO_OK; KASKO_ERR_INVALID_ARGUMENT for NULL `options` or a
/// malformed value (remembered: see kasko_call_options_new()).
/// Added in 1.1.0.
@c(kasko_call_options_set_traceparent)
@discardableResult
public func kasko_call_options_set_traceparent(_ options: OpaquePointer?, _ traceparent: UnsafePointer<CChar>?) -> KaskoCStatus {
    setText(options, traceparent, option: "traceparent") { (options: inout CallOptions, value) throws(KaskoError) in
        try options.setTraceparent(value)
    }
}

/// Sets the W3C Trace Context "tracestate" header of the call. It is sent on
/// every attempt, e.g. "vendor=value,other=value": at most 512 bytes of
/// printable ASCII, at most 32 comma-separated key=value members, each key
/// once; keys of lower-case letters, digits, "_", "-", "*" and "/" (starting
/// with a letter, or "tenant@system"), values of at most 256 characters
/// without ',' or '='
/// (https://www.w3.org/TR/trace-context/#tracestate-header). NULL removes it.
/// It is sent as given, also without a traceparent (receivers then ignore
/// it).
///
/// Ownership: the value is copied; the library keeps no pointer to it.
/// Thread-safety: not while a call reads these options.
/// Returns KASKO_OK; KASKO_ERR_INVALID_ARGUMENT for NULL `options` or a
/// malformed value (remembered: see kasko_call_options_new()).
/// Added in 1.1.0.
@c(kasko_call_options_set_tracestate)
@discardableResult
public func kasko_call_options_set_tracestate(_ options: OpaquePointer?, _ tracestate: UnsafePointer<CChar>?) -> KaskoCStatus {
    setText(options, tracestate, option: "tracestate") { (options: inout CallOptions, value) throws(KaskoError) in
        try options.setTracestate(value)
    }
}

/// Reports whether the options hold a refused value, and why. It makes no
/// call: it tells what a call made with them would refuse.
///
/// On KASKO_OK, `*out_result` (if `out_result` is not NULL) is set to NULL.
/// Otherwise it is the error result that a call would return (never NULL;
/// if memory ran out, the static KASKO_ERR_INTERNAL result), whose message
/// names the option and says what is wrong.
///
/// Ownership: the caller owns `*out_result` and frees it with
/// kasko_result_free().
/// Thread-safety: many threads may check one set at once, as long as no
/// thread changes it meanwhile.
/// Returns KASKO_OK; KASKO_ERR_INVALID_ARGUMENT for NULL `options` or
/// options holding a refused value.
/// Added in 1.1.0.
@c(kasko_call_options_check)
public func kasko_call_options_check(_ options: UnsafeRawPointer?, _ out_result: UnsafeMutablePointer<OpaquePointer?>?) -> KaskoCStatus {
    let problem = CallOptionsBox.borrow(options).map { $0.options.problem } ?? .invalidArgument("options is NULL")
    return CallResult.handRefusal(problem.map { .failure($0) } ?? .success(()), to: out_result)
}

/// A text option: read from C (a value that cannot be read is refused and
/// remembered like an invalid one), then checked and set by `apply`.
private func setText(
    _ options: OpaquePointer?, _ text: UnsafePointer<CChar>?, option: String,
    _ apply: (inout CallOptions, String?) throws(KaskoError) -> Void
) -> KaskoCStatus {
    set(options) { (options: inout CallOptions) throws(KaskoError) in
        let value: String?
        do throws(KaskoError) {
            value = try text.map { pointer throws(KaskoError) in
                try CStrings.read(pointer, name: "call option \(option)", limit: 512)
            }
        } catch {
            options.refuse(option, because: error)
            throw error
        }
        try apply(&options, value)
    }
}

private func set(_ options: OpaquePointer?, _ change: (inout CallOptions) throws(KaskoError) -> Void) -> KaskoCStatus {
    guard let box = CallOptionsBox.borrow(options.map { UnsafeRawPointer($0) }) else { return .errInvalidArgument }
    do throws(KaskoError) {
        try change(&box.options)
        return .ok
    } catch {
        return KaskoCStatus(error.status)
    }
}
