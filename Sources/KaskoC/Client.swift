import Kasko

/// Creates a client from a JSON configuration object.
///
/// `config_json` is a NUL-terminated UTF-8 JSON object of the keys
/// "public_key" (required: pk_test_... or pk_live_...), "secret_key",
/// "base_url", "timeout_ms", "connect_timeout_ms", "max_retries",
/// "ca_bundle", "proxy" and "user_agent"; libkasko(3) gives each key's
/// meaning, type, default and range. Without "secret_key", created payments
/// come back as the restricted object and kasko_payment_get is refused by
/// the API. Unknown keys are refused, so a typo cannot pass silently.
///
/// On KASKO_OK, `*out_client` is the new client and `*out_error_json` (if
/// `out_error_json` is not NULL) is set to NULL. On failure, `*out_client` is
/// NULL and `*out_error_json` is an error object whose "message" says exactly
/// what is wrong (it never quotes a key).
///
/// Plain http:// base URLs never go through a proxy from the environment
/// (http_proxy, ALL_PROXY): the request carries the secret key in clear
/// text, so it must not leave the host; an explicit "proxy" for them must be
/// a loopback one. "ca_bundle" must be a regular, readable file holding a PEM
/// certificate, checked here rather than at the first call.
///
/// Ownership: the caller owns the client and frees it with
/// kasko_client_free(); the error string is freed with kasko_string_free().
/// The library keeps no pointer to `config_json`.
/// Thread-safety: safe to call from any thread. The client may then be used
/// from many threads at once: each call borrows a libcurl handle of its own,
/// with its own kept-alive connection (consecutive calls from one thread
/// reuse one connection, N busy threads keep about N); only the DNS cache
/// and TLS sessions are shared, under locks.
/// fork(): a client may be used in a child process made after it, including
/// while other threads of the parent are in calls. The child's first call
/// opens fresh connections of its own; it never reads, writes or closes a
/// connection it inherited (the parent's keep working), and it never takes a
/// lock of the library's that it inherited. So that the child does not
/// inherit a lock of libcurl's or OpenSSL's held by a parent thread either,
/// fork() waits (fork handlers) while a thread of the library is setting up
/// a connection (resolving, connecting, TLS handshake: at most
/// "connect_timeout_ms") or making or freeing a libcurl handle; a thread
/// waiting for a response does not delay it. In the child, a fork handler
/// closes its copies of the library's sockets at once (which sends nothing;
/// the parent's connections stay open); the rest of what it inherited stays
/// allocated until the child exits, also after kasko_client_free() there.
/// The library's sockets are close-on-exec.
///
/// Returns KASKO_OK; KASKO_ERR_INVALID_ARGUMENT for NULL `config_json` or
/// `out_client`, malformed JSON, an unknown or ill-typed key, a missing
/// public key, a key with whitespace or control characters, test and live
/// keys mixed, or a plain http:// base URL that is not loopback;
/// KASKO_ERR_INTERNAL if libcurl could not be initialised or memory ran out.
/// Added in 1.0.0.
@c(kasko_client_new)
public func kasko_client_new(
    _ config_json: UnsafePointer<CChar>?,
    _ out_client: UnsafeMutablePointer<OpaquePointer?>?,
    _ out_error_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> KaskoCStatus {
    out_error_json?.pointee = nil
    switch makeClient(out_client, { () throws(KaskoError) in try clientFromJSON(config_json) }) {
    case .success: return .ok
    case .failure(let error):
        guard let out_error_json else { return KaskoCStatus(error.status) }
        return deliver(.failure(error), to: out_error_json)
    }
}

/// Creates a client from a JSON configuration, reporting a refusal as a
/// result. The configuration and its rules are those of kasko_client_new();
/// the refusal is read with kasko_result_message() and the other accessors
/// (no JSON to parse).
///
/// On KASKO_OK, `*out_client` is the new client and `*out_result` (if
/// `out_result` is not NULL) is set to NULL: there is nothing to report.
/// On failure, `*out_client` is NULL and `*out_result` is the error result,
/// never NULL (if memory ran out, it is a static KASKO_ERR_INTERNAL
/// result); its message says exactly what is wrong and never quotes a key.
///
/// Ownership: the caller owns the client (kasko_client_free()) and the
/// result (kasko_result_free()). The library keeps no pointer to
/// `config_json`.
/// Thread-safety: as kasko_client_new().
///
/// Returns what kasko_client_new() returns, equal to
/// kasko_result_status(*out_result) on failure.
/// Added in 1.1.0.
@c(kasko_client_new_v2)
public func kasko_client_new_v2(
    _ config_json: UnsafePointer<CChar>?,
    _ out_client: UnsafeMutablePointer<OpaquePointer?>?,
    _ out_result: UnsafeMutablePointer<OpaquePointer?>?
) -> KaskoCStatus {
    CallResult.handRefusal(makeClient(out_client) { () throws(KaskoError) in try clientFromJSON(config_json) }, to: out_result)
}

private func clientFromJSON(_ config_json: UnsafePointer<CChar>?) throws(KaskoError) -> KaskoClient {
    try KaskoClient(configurationJSON: try CStrings.read(config_json, name: "config_json", limit: CStrings.maximumDocumentBytes))
}

/// Every constructor: the client `make` makes, in `*out_client` (NULL on
/// failure).
func makeClient(
    _ out_client: UnsafeMutablePointer<OpaquePointer?>?, _ make: () throws(KaskoError) -> KaskoClient
) -> Result<Void, KaskoError> {
    out_client?.pointee = nil
    do throws(KaskoError) {
        guard let out_client else { throw .invalidArgument("out_client is NULL") }
        let client = try make()
        out_client.pointee = OpaquePointer(Unmanaged.passRetained(client).toOpaque())
        return .success(())
    } catch {
        return .failure(error)
    }
}

/// Frees a client and everything it holds. Pooled connections are closed
/// and the header memory that held the secret key is overwritten. In a
/// process forked after the client was made, the connections inherited from
/// the parent are left alone (closing them would close the parent's TLS
/// sessions); only those the child opened are closed.
///
/// Asynchronous calls (1.4.0) still in flight end with
/// KASKO_ERR_CANCELLED, and all their callbacks have run, on the client's
/// engine thread, before this function returns; then that thread has ended.
/// Called from inside one of the client's callbacks, it returns at once,
/// and the other calls' callbacks run after that callback returns, before
/// the engine thread ends. A callback run here that makes a new call on
/// this client is refused (KASKO_ERR_CANCELLED, no callback). In a forked
/// child, the parent's engine is left alone, like its connections.
///
/// Ownership: takes ownership of `client`. Passing NULL does nothing.
/// Thread-safety: the caller must make sure no other thread is using the
/// client, or will use it afterwards.
/// Added in 1.0.0.
@c(kasko_client_free)
public func kasko_client_free(_ client: OpaquePointer?) {
    guard let client else { return }
    let owner = Unmanaged<KaskoClient>.fromOpaque(UnsafeRawPointer(client))
    owner.takeUnretainedValue().stopAsynchronousCalls()
    owner.release()
}

/// The Swift client behind a C handle, without taking ownership.
func borrowClient(_ client: OpaquePointer?) throws(KaskoError) -> KaskoClient {
    guard let client else { throw .invalidArgument("client is NULL") }
    return Unmanaged<KaskoClient>.fromOpaque(UnsafeRawPointer(client)).takeUnretainedValue()
}

/// The C type of an event hook: a function pointer taking the event (a
/// borrowed `kasko_result *`) and the user data it was set with. The
/// header spells it `kasko_event_hook`.
public typealias KaskoCEventHook = @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Void

/// Sets the client's event hook, a function called once per attempt and
/// once at the end of every call, or clears it (a NULL `hook`).
///
/// Each event is a `kasko_result` whose JSON (kasko_result_json(), one log
/// line) is the event object, read with kasko_result_member_string(),
/// kasko_result_member_int64() and the other accessors. Its members:
/// "event" ("attempt" or "call_end"), "operation" ("payment_create",
/// "payment_get", "quote_create", "offer_create", "offer_get" or
/// "policy_get"; kasko_payment_resolve() reports the calls it makes),
/// "method", "route" (the template, e.g. "/payments" or "/policies/{id}",
/// for metrics), "path" (the base URL's path and the
/// route filled in, never the query), "attempt" (the attempt's number; for
/// "call_end" the attempts made, 0 for a call refused before any I/O),
/// "http_status" (null without a response), "status" (a status name,
/// "KASKO_OK" for success), "outcome" ("succeeded", "not_sent", "rejected"
/// or "unknown"), "retry" (whether another attempt follows),
/// "retry_delay_ms" (the wait before it; null unless "retry"),
/// "request_id" (as results give it; null if none), "bytes_sent" and
/// "bytes_received" (headers and bodies; for "call_end" the sums over the
/// attempts), "dns_us", "connect_us", "tls_us", "first_byte_us" (libcurl's
/// times from the start of the attempt, 0 for a phase that did not happen
/// or did not complete: a reused connection has no connect or TLS time, and
/// an attempt whose TLS handshake failed records neither, as libcurl 7.88
/// measures them, its "total_us" covers it; null for "call_end"), "total_us" (the attempt's time; for "call_end" the
/// call's wall time, as kasko_result_total_time_us() gives it) and
/// "message" (what went wrong, null on success). kasko_result_status(),
/// kasko_result_outcome(), kasko_result_http_status(),
/// kasko_result_attempts(), kasko_result_message() and
/// kasko_result_request_id() give the same as the members. No event holds
/// the secret key, the public key (not even in "path"), a payment token or
/// a body: messages are redacted as errors are.
///
/// What a hook may do: read the event, copy what it keeps (the event and
/// every string read from it are valid only until the hook returns; never
/// pass it to kasko_result_free()), log, count, and make library calls,
/// on this or any client: calls made from inside a hook deliver no events
/// (on any client), so a hook cannot recurse. It may block or sleep: that
/// delays only the call that delivered the event, and a concurrent
/// kasko_client_set_event_hook(). It must not call
/// kasko_client_set_event_hook() (refused there, see below), nor
/// kasko_client_free() on the client whose call delivered the event, nor
/// longjmp out or throw.
///
/// Ownership: the library keeps `hook` and `user_data` until the hook is
/// replaced or cleared, or the client is freed; it never frees
/// `user_data`.
/// Thread-safety: the hook is called on the thread making the call, from
/// many threads at once when the client is used so. This function may be
/// called at any time, from any thread, while calls run: calls that started
/// before may still deliver to the old hook until this function returns;
/// once it has returned, the previous hook is not running and will not be
/// called again, so its user data may be freed. Events of a call made while
/// it runs go to the old hook or the new one.
///
/// Fork: a child process keeps the hook (the same function and user data).
/// Hooks that other threads were running when the process forked are not
/// running in the child, and this function never waits for them there. If
/// fork() was called from inside a hook, the child is inside that hook
/// until it returns, under the rules above (this function refused there,
/// calls deliver nothing), and then like any other thread. Once this
/// function has returned in a process, the previous hook is not running in
/// that process and is not called there again; other processes are not
/// affected.
///
/// Returns KASKO_OK; KASKO_ERR_INVALID_ARGUMENT for a NULL `client`, and
/// when called from inside an event hook (of any client), where it would
/// wait for itself; then nothing changes.
/// Added in 1.2.0.
@c(kasko_client_set_event_hook)
public func kasko_client_set_event_hook(
    _ client: OpaquePointer?, _ hook: KaskoCEventHook?, _ user_data: UnsafeMutableRawPointer?
) -> KaskoCStatus {
    guard let client else { return .errInvalidArgument }
    let owner = Unmanaged<KaskoClient>.fromOpaque(UnsafeRawPointer(client)).takeUnretainedValue()
    guard let hook else { return owner.eventHooks.set(nil) ? .ok : .errInvalidArgument }
    let data = user_data
    let set = owner.eventHooks.set { event in
        // Memory ran out: the event is lost, the call goes on.
        guard let result = CallResult(event: event) else { return }
        let borrowed = Unmanaged.passRetained(result)
        hook(OpaquePointer(borrowed.toOpaque()), data)
        borrowed.release()
    }
    return set ? .ok : .errInvalidArgument
}
