import Kasko

/// Creates a payment from a JSON request, turning an offer into a paid
/// policy. It is `POST /payments?key=PUBLIC_KEY`, with the secret key as a
/// Bearer token when the client has one.
///
/// `request_json` is a NUL-terminated UTF-8 JSON object with exactly the
/// string fields "token" (the offer's payment token), "provider", "method"
/// and "policy_id". The call blocks until the API answers. It is sent at
/// most once: retried only when libcurl never got as far as writing it (DNS,
/// connect, proxy), never after, not even by libcurl itself.
///
/// On KASKO_OK, `*out_json` is the payment object exactly as the API sent it:
/// the full object when the client has a secret key, else the restricted one
/// (object, id, livemode, provider, method, status, transaction_metadata,
/// _links). On any other status it is an error object, whose members are
/// "object" ("error"), "code" (the status's name), "http_status", "status",
/// "message", "pending_payment_id", "retryable", "outcome", "attempts" and
/// "request_id". "message" ends with the request it is about, as in
/// "(POST /v1/payments: 401 Unauthorized; sent public key
/// pk_test_…ab12 and secret key sk_test_…cd34)": the path without its
/// query, the answer's status, and on 401/403 the credentials sent, by
/// hint, never whole.
/// "outcome" is "not_sent" only when no byte of the request can
/// have been written, "rejected" only for a 4xx answer, and "unknown"
/// otherwise: then the payment may exist, so look it up before creating it
/// again. A 200 whose payment carries a "policy_id" other than the request's
/// is KASKO_ERR_INVALID_RESPONSE, not a success. Nothing in the error object
/// holds the client's keys or the request's token, even if the server echoed
/// them ("[redacted]").
///
/// Ownership: `*out_json` belongs to the caller, who frees it with
/// kasko_string_free(). It is NULL only if `out_json` is NULL or memory ran
/// out (then the status is KASKO_ERR_INTERNAL).
/// Thread-safety: one client may be used from many threads at once.
///
/// Returns KASKO_OK; KASKO_ERR_INVALID_ARGUMENT (NULL argument, malformed or
/// incomplete request, unknown field; nothing was sent);
/// KASKO_ERR_BAD_REQUEST (400); KASKO_ERR_UNAUTHORIZED (401/403);
/// KASKO_ERR_NOT_FOUND (404: unknown provider); KASKO_ERR_PENDING_PAYMENT
/// (422, with "pending_payment_id"); KASKO_ERR_RATE_LIMITED (429);
/// KASKO_ERR_SERVER (5xx or an undocumented status); KASKO_ERR_NETWORK;
/// KASKO_ERR_INVALID_RESPONSE; KASKO_ERR_INTERNAL.
/// Added in 1.0.0.
@c(kasko_payment_create)
public func kasko_payment_create(
    _ client: OpaquePointer?,
    _ request_json: UnsafePointer<CChar>?,
    _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> KaskoCStatus {
    paymentCall(client, .paymentCreate, out_json) { (owner, deliver) throws(KaskoError) in
        owner.createPayment(
            json: try CStrings.read(request_json, name: "request_json", limit: CStrings.maximumDocumentBytes),
            deliver: deliver)
    }
}

/// Views a payment, as a JSON string. It is `GET /payments/{payment_id}`,
/// with the secret key as a Bearer token.
///
/// `payment_id` is NUL-terminated, 1 to 128 characters from [A-Za-z0-9_-];
/// anything else is refused before any I/O, since it goes into the URL path.
/// The call blocks until the API answers; it is retried on connection
/// failures, timeouts, 429, 502, 503 and 504, up to "max_retries" times.
///
/// On KASKO_OK, `*out_json` is the payment object exactly as the API sent it,
/// and its "id" is `payment_id`: an answer about another payment, or with a
/// duplicated "id" or "object", is KASKO_ERR_INVALID_RESPONSE. Otherwise it
/// is an error object as described for kasko_payment_create().
///
/// Ownership: `*out_json` belongs to the caller, who frees it with
/// kasko_string_free(). It is NULL only if `out_json` is NULL or memory ran
/// out (then the status is KASKO_ERR_INTERNAL).
/// Thread-safety: one client may be used from many threads at once.
///
/// Returns KASKO_OK; KASKO_ERR_INVALID_ARGUMENT (NULL argument, bad payment
/// id; nothing was sent); KASKO_ERR_UNAUTHORIZED (401/403, e.g. no secret
/// key); KASKO_ERR_NOT_FOUND (404: no such payment); KASKO_ERR_RATE_LIMITED;
/// KASKO_ERR_SERVER; KASKO_ERR_NETWORK; KASKO_ERR_INVALID_RESPONSE;
/// KASKO_ERR_INTERNAL.
/// Added in 1.0.0.
@c(kasko_payment_get)
public func kasko_payment_get(
    _ client: OpaquePointer?,
    _ payment_id: UnsafePointer<CChar>?,
    _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> KaskoCStatus {
    paymentCall(client, .paymentGet, out_json) { (owner, deliver) throws(KaskoError) in
        owner.getPayment(
            id: try CStrings.read(payment_id, name: "payment_id", limit: PaymentID.maximumLength), deliver: deliver)
    }
}

/// The shape every call with a JSON string out shares (the payments' and
/// the checkout's): check `out_json`, borrow the client,
/// run the call, hand the payment or the error object to the caller. The
/// payment is copied into the caller's C string inside the call, while its
/// bytes are still the transfer buffer: the one copy made of them.
func paymentCall(
    _ client: OpaquePointer?,
    _ operation: EventOperation,
    _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    _ call: (KaskoClient, (PaymentJSON) -> Void) throws(KaskoError) -> Result<Void, KaskoError>
) -> KaskoCStatus {
    guard let out_json else { return .errInvalidArgument }
    out_json.pointee = nil
    var text: UnsafeMutablePointer<CChar>?
    let result: Result<Void, KaskoError>
    var owner: KaskoClient?
    do throws(KaskoError) {
        let borrowed = try borrowClient(client)
        owner = borrowed
        result = try call(borrowed) { payment in text = CStrings.copy(payment.bytes) }
    } catch {
        // Refused before any I/O: a hook hears of it once the client is known.
        result = .failure(owner?.refused(error, operation: operation) ?? error)
    }
    return deliver(result.map { text }, to: out_json)
}

/// Creates a payment from four C strings, with per-call options, and hands
/// back a result. It does what kasko_payment_create() does (the same
/// request, the same at-most-once sending, the same statuses and error
/// object), with typed access to the answer instead of a string.
///
/// `token` (the offer's payment token), `provider`, `method` and `policy_id`
/// are NUL-terminated UTF-8, each 1 to 4096 bytes without control
/// characters; the library escapes them into the JSON body, so any such text
/// is safe to pass. `options` may be NULL (the client's settings).
///
/// On KASKO_OK the result's JSON is the payment object as the API sent it
/// (read "id" with kasko_result_member_string()), and the result carries
/// the response's HTTP status, X-Request-Id and the attempts made.
/// Otherwise it is the error result: read its members with
/// kasko_result_outcome(), kasko_result_message(),
/// kasko_result_pending_payment_id() and the others.
///
/// Ownership: `*out_result` belongs to the caller, who frees it with
/// kasko_result_free(). It is never NULL when `out_result` is not NULL,
/// whatever the status (if memory ran out, it is a static
/// KASKO_ERR_INTERNAL result), so there is always an error to read. The
/// library keeps no pointer to the arguments.
/// Thread-safety: one client may be used from many threads at once.
///
/// Returns what kasko_payment_create() returns, always equal to
/// kasko_result_status(*out_result); KASKO_ERR_INVALID_ARGUMENT also for a
/// NULL field, for options holding a refused value, and for a NULL
/// `out_result` (the one case where no result is stored).
/// Added in 1.1.0.
@c(kasko_payment_create_v2)
public func kasko_payment_create_v2(
    _ client: OpaquePointer?,
    _ token: UnsafePointer<CChar>?,
    _ provider: UnsafePointer<CChar>?,
    _ method: UnsafePointer<CChar>?,
    _ policy_id: UnsafePointer<CChar>?,
    _ options: UnsafeRawPointer?,
    _ out_result: UnsafeMutablePointer<OpaquePointer?>?
) -> KaskoCStatus {
    resultCall(client, .paymentCreate, options, out_result) { (owner, options, deliver) throws(KaskoError) in
        owner.createPayment(
            try paymentRequest(token, provider, method, policy_id), options: options, deliver: deliver)
    }
}

/// A payment request from four C strings, each checked as a JSON request's
/// field is: the same words, and the same limit, so that a field is refused
/// before more than that is read.
func paymentRequest(
    _ token: UnsafePointer<CChar>?, _ provider: UnsafePointer<CChar>?, _ method: UnsafePointer<CChar>?,
    _ policy_id: UnsafePointer<CChar>?
) throws(KaskoError) -> PaymentRequest {
    func field(_ pointer: UnsafePointer<CChar>?, _ name: String) throws(KaskoError) -> String {
        try CStrings.read(pointer, name: "payment request field \"\(name)\"", limit: PaymentRequest.maximumFieldLength)
    }
    return try PaymentRequest(
        token: try field(token, "token"), provider: try field(provider, "provider"),
        method: try field(method, "method"), policyID: try field(policy_id, "policy_id"))
}

/// Views a payment, with per-call options, and hands back a result. It does
/// what kasko_payment_get() does (the same request, retries, statuses and
/// checks), with typed access to the answer instead of a string.
///
/// `payment_id` is NUL-terminated, 1 to 128 characters from [A-Za-z0-9_-].
/// `options` may be NULL (the client's settings).
///
/// On KASKO_OK the result's JSON is the payment object as the API sent it,
/// whose "id" is `payment_id`; the result carries the response's HTTP
/// status, X-Request-Id and the attempts made. Otherwise it is the error
/// result.
///
/// Ownership: `*out_result` belongs to the caller, who frees it with
/// kasko_result_free(). It is never NULL when `out_result` is not NULL,
/// whatever the status (if memory ran out, it is a static
/// KASKO_ERR_INTERNAL result).
/// Thread-safety: one client may be used from many threads at once.
///
/// Returns what kasko_payment_get() returns, always equal to
/// kasko_result_status(*out_result); KASKO_ERR_INVALID_ARGUMENT also for
/// options holding a refused value, and for a NULL `out_result` (the one
/// case where no result is stored).
/// Added in 1.1.0.
@c(kasko_payment_get_v2)
public func kasko_payment_get_v2(
    _ client: OpaquePointer?,
    _ payment_id: UnsafePointer<CChar>?,
    _ options: UnsafeRawPointer?,
    _ out_result: UnsafeMutablePointer<OpaquePointer?>?
) -> KaskoCStatus {
    resultCall(client, .paymentGet, options, out_result) { (owner, options, deliver) throws(KaskoError) in
        owner.getPayment(
            id: try CStrings.read(payment_id, name: "payment_id", limit: PaymentID.maximumLength),
            options: options, deliver: deliver)
    }
}

/// The shape of every call that hands back a result: check `out_result`,
/// borrow the client, read the options, run the call, and hand over the
/// payment (copied once, inside the call, from the transfer buffer) or
/// the error.
func resultCall(
    _ client: OpaquePointer?,
    _ operation: EventOperation,
    _ options: UnsafeRawPointer?,
    _ out_result: UnsafeMutablePointer<OpaquePointer?>?,
    _ call: (KaskoClient, CallOptions, (PaymentJSON) -> Void) throws(KaskoError) -> Result<Void, KaskoError>
) -> KaskoCStatus {
    guard let out_result else { return .errInvalidArgument }
    out_result.pointee = nil
    var made: CallResult?
    let result: Result<Void, KaskoError>
    var borrowed: KaskoClient?
    do throws(KaskoError) {
        let owner = try borrowClient(client)
        borrowed = owner
        result = try call(owner, CallOptionsBox.borrow(options)?.options ?? CallOptions()) { payment in
            made = CallResult(payment: payment)
        }
    } catch {
        // Refused before any I/O: a hook hears of it once the client is known.
        result = .failure(borrowed?.refused(error, operation: operation) ?? error)
    }
    switch result {
    case .success: return CallResult.hand(made, to: out_result)
    case .failure(let error): return CallResult.hand(error, to: out_result)
    }
}
