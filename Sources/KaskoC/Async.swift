import Kasko

/// The C type of a completion callback: a function pointer taking the
/// call's result (owned by the callback) and the user data the call was made
/// with. The header spells it `kasko_callback`.
public typealias KaskoCCallback = @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Void

/// Creates a payment asynchronously: kasko_payment_create_v2() without
/// blocking. It returns at once, and `callback` later receives the result
/// kasko_payment_create_v2() would have returned: the same request, the
/// same at-most-once sending (retried only when libcurl never got as far as
/// writing it), the same statuses, error object and typed access.
///
/// The fields and `options` are those of kasko_payment_create_v2(), read
/// before this function returns (the library keeps no pointer to them, nor
/// to `options`). `callback` is required; `user_data` is passed to it
/// untouched. `out_call` may be NULL; on KASKO_OK it receives the call's id
/// (never 0), for kasko_call_cancel(), else 0.
///
/// On KASKO_OK the call is accepted, and `callback` is called exactly once,
/// later, on the client's engine thread: never inside this function, even
/// when the call is refused before any I/O (a NULL or malformed field, or
/// options holding a refused value: then the result is
/// KASKO_ERR_INVALID_ARGUMENT with attempts 0). The engine is one thread per
/// client, started by its first asynchronous call; it runs every transfer of
/// the client's asynchronous calls over one libcurl multi handle, and their
/// retries on timers (no thread sleeps). All callbacks (and the event hook,
/// for asynchronous calls) run there, one at a time: while one runs, no
/// other asynchronous call of the client progresses, so keep them short.
///
/// What a callback may do: anything the library offers, on any client:
/// read and keep or free its result, make more asynchronous calls, cancel
/// calls, free this client (kasko_client_free(): the other calls in flight
/// then end cancelled, their callbacks running after this one returns), or
/// make blocking calls (allowed, but they stall the engine while they
/// wait). It must not longjmp out or throw.
///
/// Ownership: the result belongs to the callback, which frees it with
/// kasko_result_free() (then or later, on any thread). It is never NULL.
/// Thread-safety: may be called from any thread, also from a callback or an
/// event hook; blocking and asynchronous calls may be mixed on one client.
/// fork(): a child process never runs callbacks of calls its parent made
/// (they complete in the parent); its first asynchronous call starts an
/// engine of its own.
///
/// Returns KASKO_OK; KASKO_ERR_INVALID_ARGUMENT for a NULL `client` or
/// `callback`; KASKO_ERR_CANCELLED when the client is being freed (a
/// callback run by kasko_client_free() made the call); KASKO_ERR_INTERNAL if
/// the engine could not be started. Then `callback` is never called.
/// Added in 1.4.0.
@c(kasko_payment_create_async)
public func kasko_payment_create_async(
    _ client: OpaquePointer?,
    _ token: UnsafePointer<CChar>?,
    _ provider: UnsafePointer<CChar>?,
    _ method: UnsafePointer<CChar>?,
    _ policy_id: UnsafePointer<CChar>?,
    _ options: UnsafeRawPointer?,
    _ callback: KaskoCCallback?,
    _ user_data: UnsafeMutableRawPointer?,
    _ out_call: UnsafeMutablePointer<UInt64>?
) -> KaskoCStatus {
    asyncCall(client, .paymentCreate, options, callback, user_data, out_call) { owner throws(KaskoError) in
        owner.planPaymentCreate(try paymentRequest(token, provider, method, policy_id))
    }
}

/// Views a payment asynchronously: kasko_payment_get_v2() without blocking
/// (the same request, retries, statuses and checks; its retries wait on the
/// engine's timers). `payment_id` and `options` are those of
/// kasko_payment_get_v2(); `callback`, `user_data` and `out_call`, and when
/// and where the callback runs, are as for kasko_payment_create_async().
///
/// Ownership: the result belongs to the callback (kasko_result_free()).
/// Thread-safety: as kasko_payment_create_async().
///
/// Returns what kasko_payment_create_async() returns.
/// Added in 1.4.0.
@c(kasko_payment_get_async)
public func kasko_payment_get_async(
    _ client: OpaquePointer?,
    _ payment_id: UnsafePointer<CChar>?,
    _ options: UnsafeRawPointer?,
    _ callback: KaskoCCallback?,
    _ user_data: UnsafeMutableRawPointer?,
    _ out_call: UnsafeMutablePointer<UInt64>?
) -> KaskoCStatus {
    asyncCall(client, .paymentGet, options, callback, user_data, out_call) { owner throws(KaskoError) in
        owner.planPaymentGet(id: try CStrings.read(payment_id, name: "payment_id", limit: PaymentID.maximumLength))
    }
}

/// Prices an insurance asynchronously: kasko_quote_create_v2() without
/// blocking (retried like a view). `request_json` and `options` are those of
/// kasko_quote_create_v2(); `callback`, `user_data` and `out_call`, and when
/// and where the callback runs, are as for kasko_payment_create_async().
///
/// Ownership: the result belongs to the callback (kasko_result_free()).
/// Thread-safety: as kasko_payment_create_async().
///
/// Returns what kasko_payment_create_async() returns.
/// Added in 1.4.0.
@c(kasko_quote_create_async)
public func kasko_quote_create_async(
    _ client: OpaquePointer?,
    _ request_json: UnsafePointer<CChar>?,
    _ options: UnsafeRawPointer?,
    _ callback: KaskoCCallback?,
    _ user_data: UnsafeMutableRawPointer?,
    _ out_call: UnsafeMutablePointer<UInt64>?
) -> KaskoCStatus {
    asyncCall(client, .quoteCreate, options, callback, user_data, out_call) { owner throws(KaskoError) in
        owner.planQuoteCreate(json: try readDocument(request_json))
    }
}

/// Makes an offer asynchronously: kasko_offer_create_v2() without blocking
/// (a create: sent at most once). `request_json` and `options` are those of
/// kasko_offer_create_v2(); `callback`, `user_data` and `out_call`, and when
/// and where the callback runs, are as for kasko_payment_create_async().
///
/// Ownership: the result belongs to the callback (kasko_result_free()).
/// Thread-safety: as kasko_payment_create_async().
///
/// Returns what kasko_payment_create_async() returns.
/// Added in 1.4.0.
@c(kasko_offer_create_async)
public func kasko_offer_create_async(
    _ client: OpaquePointer?,
    _ request_json: UnsafePointer<CChar>?,
    _ options: UnsafeRawPointer?,
    _ callback: KaskoCCallback?,
    _ user_data: UnsafeMutableRawPointer?,
    _ out_call: UnsafeMutablePointer<UInt64>?
) -> KaskoCStatus {
    asyncCall(client, .offerCreate, options, callback, user_data, out_call) { owner throws(KaskoError) in
        owner.planOfferCreate(json: try readDocument(request_json))
    }
}

/// Views an offer asynchronously: kasko_offer_get_v2() without blocking.
/// `policy_id` (the offer's id) and `options` are those of kasko_offer_get_v2(); `callback`,
/// `user_data` and `out_call`, and when and where the callback runs, are as
/// for kasko_payment_create_async().
///
/// Ownership: the result belongs to the callback (kasko_result_free()).
/// Thread-safety: as kasko_payment_create_async().
///
/// Returns what kasko_payment_create_async() returns.
/// Added in 1.4.0.
@c(kasko_offer_get_async)
public func kasko_offer_get_async(
    _ client: OpaquePointer?,
    _ policy_id: UnsafePointer<CChar>?,
    _ options: UnsafeRawPointer?,
    _ callback: KaskoCCallback?,
    _ user_data: UnsafeMutableRawPointer?,
    _ out_call: UnsafeMutablePointer<UInt64>?
) -> KaskoCStatus {
    asyncCall(client, .offerGet, options, callback, user_data, out_call) { owner throws(KaskoError) in
        owner.planOfferGet(id: try readPolicyID(policy_id))
    }
}

/// Views a policy asynchronously: kasko_policy_get_v2() without blocking;
/// its result carries kasko_result_etag() and kasko_result_last_modified()
/// as the blocking call's does. `policy_id` and `options` are those of
/// kasko_policy_get_v2(); `callback`, `user_data` and `out_call`, and when
/// and where the callback runs, are as for kasko_payment_create_async().
///
/// Ownership: the result belongs to the callback (kasko_result_free()).
/// Thread-safety: as kasko_payment_create_async().
///
/// Returns what kasko_payment_create_async() returns.
/// Added in 1.4.0.
@c(kasko_policy_get_async)
public func kasko_policy_get_async(
    _ client: OpaquePointer?,
    _ policy_id: UnsafePointer<CChar>?,
    _ options: UnsafeRawPointer?,
    _ callback: KaskoCCallback?,
    _ user_data: UnsafeMutableRawPointer?,
    _ out_call: UnsafeMutablePointer<UInt64>?
) -> KaskoCStatus {
    asyncCall(client, .policyGet, options, callback, user_data, out_call) { owner throws(KaskoError) in
        owner.planPolicyGet(id: try readPolicyID(policy_id))
    }
}

/// Asks for an asynchronous call to end now, cancelled. If `call` is still
/// in flight (queued, waiting for a connection or an answer, or waiting to
/// retry), its callback receives KASKO_ERR_CANCELLED: outcome "not_sent"
/// when no byte of any of its attempts' requests can have been written,
/// else "unknown" (a create may have been carried out: view the policy, or
/// use kasko_payment_resolve(), before creating it again); no HTTP status;
/// the attempts begun. A call that finished first keeps its own result, so
/// the callback, not this function, says what happened. Cancelling a call
/// twice, or one already completed, does nothing more.
///
/// Ownership: nothing changes hands.
/// Thread-safety: may be called from any thread, also from a callback. The
/// callback never runs inside this function.
///
/// Returns KASKO_OK when `call` is an id that `client` gave; else
/// KASKO_ERR_INVALID_ARGUMENT (a NULL `client`, 0, or an id never given).
/// Added in 1.4.0.
@c(kasko_call_cancel)
public func kasko_call_cancel(_ client: OpaquePointer?, _ call: UInt64) -> KaskoCStatus {
    guard let owner = try? borrowClient(client) else { return .errInvalidArgument }
    return owner.cancelCall(call) ? .ok : .errInvalidArgument
}

/// Finds out asynchronously what became of a payment create whose outcome
/// was unknown: kasko_payment_resolve() without blocking. Its two steps (the
/// policy view, then, unless the policy is paid, the identical create sent
/// once) are asynchronous calls under the one id `*out_call` receives, so
/// kasko_call_cancel() ends whichever is in flight; cancelled during the
/// create, the outcome is "unknown" as for any create. The fields, `options`
/// and the result (a "payment_resolution" object on KASKO_OK) are those of
/// kasko_payment_resolve(); `callback`, `user_data` and `out_call`, and when
/// and where the callback runs, are as for kasko_payment_create_async().
///
/// Ownership: the result belongs to the callback (kasko_result_free()).
/// Thread-safety: as kasko_payment_create_async().
///
/// Returns what kasko_payment_create_async() returns.
/// Added in 1.4.0.
@c(kasko_payment_resolve_async)
public func kasko_payment_resolve_async(
    _ client: OpaquePointer?,
    _ token: UnsafePointer<CChar>?,
    _ provider: UnsafePointer<CChar>?,
    _ method: UnsafePointer<CChar>?,
    _ policy_id: UnsafePointer<CChar>?,
    _ options: UnsafeRawPointer?,
    _ callback: KaskoCCallback?,
    _ user_data: UnsafeMutableRawPointer?,
    _ out_call: UnsafeMutablePointer<UInt64>?
) -> KaskoCStatus {
    asyncStart(client, .paymentCreate, options, callback, user_data, out_call) {
        (owner, options, completion) throws(KaskoError) in
        let request = try paymentRequest(token, provider, method, policy_id)
        // The policy id goes into a URL path first.
        _ = try PolicyID(request.policyID)
        return owner.submitResolve(request, options: options, completion: completion)
    }
}

/// One C call's completion: the callback and its user data, and the
/// success's result, made while the answer's bytes are still the transfer
/// buffer and handed over when the call finishes. Every stored property is
/// trivial, so the object's deinit, which may run on the submitting thread
/// after the engine's thread is done with it, touches none of them (the
/// reference counts that order the two are atomics helgrind cannot see).
private final class CCallbackCompletion: CallCompletion {
    private let callback: KaskoCCallback
    private let userData: UnsafeMutableRawPointer?
    /// A +1 reference from `deliver`, taken back by `finish` (exactly once).
    private var made: Unmanaged<CallResult>?

    init(callback: KaskoCCallback, userData: UnsafeMutableRawPointer?) {
        self.callback = callback
        self.userData = userData
    }

    func deliver(_ payment: PaymentJSON) {
        made?.release()
        made = CallResult(payment: payment).map { Unmanaged.passRetained($0) }
    }

    /// The result's +1 goes to the callback itself: the engine keeps no
    /// reference across the call. Otherwise its last release, after the
    /// callback returned, could come after the caller's kasko_result_free on
    /// another thread and deallocate there what that thread had written (the
    /// member caches): ordered only by reference-count atomics, which
    /// helgrind cannot see, so a report depending on the timing.
    func finish(_ result: Result<Void, KaskoError>) {
        let handed: OpaquePointer?
        switch (result, made) {
        case (.success, let made?):
            handed = OpaquePointer(made.toOpaque())
        case (.success, nil):
            handed = CCallbackCompletion.handOut(nil)
        case (.failure(let error), _):
            made?.release()
            handed = CCallbackCompletion.handOut(error)
        }
        made = nil
        callback(handed, userData)
    }

    /// A new +1 result, every temporary of it released before this returns.
    @inline(never)
    private static func handOut(_ error: KaskoError?) -> OpaquePointer? {
        var handed: OpaquePointer?
        if let error {
            _ = CallResult.hand(error, to: &handed)
        } else {
            _ = CallResult.hand(nil, to: &handed)
        }
        return handed
    }
}

/// The shape of the asynchronous calls that are one request: `plan` checks
/// the arguments, then `asyncStart` does the rest.
func asyncCall(
    _ client: OpaquePointer?,
    _ operation: EventOperation,
    _ options: UnsafeRawPointer?,
    _ callback: KaskoCCallback?,
    _ user_data: UnsafeMutableRawPointer?,
    _ out_call: UnsafeMutablePointer<UInt64>?,
    _ plan: (KaskoClient) throws(KaskoError) -> PlannedCall
) -> KaskoCStatus {
    asyncStart(client, operation, options, callback, user_data, out_call) {
        (owner, options, completion) throws(KaskoError) in
        owner.submit(try plan(owner), options: options, completion: completion)
    }
}

/// The shape every asynchronous call shares: check the client and the
/// callback, start the call (arguments it refuses are still completed
/// through the callback, on the engine's thread), and hand its result to
/// the callback once, as the blocking `resultCall` hands it to its caller.
func asyncStart(
    _ client: OpaquePointer?,
    _ operation: EventOperation,
    _ options: UnsafeRawPointer?,
    _ callback: KaskoCCallback?,
    _ user_data: UnsafeMutableRawPointer?,
    _ out_call: UnsafeMutablePointer<UInt64>?,
    _ start: (KaskoClient, CallOptions, CallCompletion) throws(KaskoError) -> Result<UInt64, KaskoError>
) -> KaskoCStatus {
    out_call?.pointee = 0
    guard let callback, let owner = try? borrowClient(client) else { return .errInvalidArgument }
    let completion = CCallbackCompletion(callback: callback, userData: user_data)
    let callOptions = CallOptionsBox.borrow(options)?.options ?? CallOptions()
    let submitted: Result<UInt64, KaskoError>
    do throws(KaskoError) {
        submitted = try start(owner, callOptions, completion)
    } catch {
        submitted = owner.submit(PlannedCall(refused: error, event: operation), options: nil, completion: completion)
    }
    switch submitted {
    case .success(let id):
        out_call?.pointee = id
        return .ok
    case .failure(let error):
        return KaskoCStatus(error.status)
    }
}
