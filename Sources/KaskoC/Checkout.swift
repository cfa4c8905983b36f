import Kasko

// The checkout around a payment: quote → offer → payment → policy. Each
// call comes in the two shapes the payment calls have: a 1.0-style JSON
// string out, and a `_v2` form with per-call options and a result out.

/// Prices an insurance: a v3 quote, whose "token" an offer is made from.
/// It is `POST /quotes?key=PUBLIC_KEY` with
/// `Accept: application/vnd.kasko.v3+json`, and the secret key as a Bearer
/// token when the client has one.
///
/// `request_json` is a NUL-terminated UTF-8 JSON object, at most 64 KiB,
/// with the string members "item_id", "subscription_plan_id" and
/// "integration_id" and the object "data" (the product's quote fields).
/// Those are checked before any I/O; the body is then sent exactly as
/// given, other members included ("live_integration", "product_version_id",
/// …), since KASKO's products differ in what they take. A member given
/// twice is refused. A quote changes nothing on the server, so the call is
/// retried like a view: on connection failures, timeouts, 429, 502, 503 and
/// 504, up to "max_retries" times.
///
/// On KASKO_OK, `*out_json` is the quote exactly as the API sent it, with a
/// string "token" (checked), "gross_payment_amount" and "extra_data". Else
/// it is an error object as for kasko_payment_create(); a validation
/// failure (400) carries the server's "errors" array
/// ([{"code":"invalid_value","field":"…"}]).
///
/// Ownership: `*out_json` belongs to the caller, who frees it with
/// kasko_string_free(). It is NULL only if `out_json` is NULL or memory ran
/// out (then the status is KASKO_ERR_INTERNAL).
/// Thread-safety: one client may be used from many threads at once.
///
/// Returns KASKO_OK; KASKO_ERR_INVALID_ARGUMENT (NULL argument, not a JSON
/// object, a required member missing or of the wrong type, a duplicate
/// member; nothing was sent); KASKO_ERR_BAD_REQUEST (400: invalid data);
/// KASKO_ERR_UNAUTHORIZED (401/403); KASKO_ERR_NOT_FOUND (404: unknown
/// integration, item or subscription plan); KASKO_ERR_RATE_LIMITED (429);
/// KASKO_ERR_SERVER (409 while the product's pricing is being set up, 5xx,
/// or any other status); KASKO_ERR_NETWORK; KASKO_ERR_INVALID_RESPONSE
/// (not a quote); KASKO_ERR_INTERNAL.
/// Added in 1.3.0.
@c(kasko_quote_create)
public func kasko_quote_create(
    _ client: OpaquePointer?,
    _ request_json: UnsafePointer<CChar>?,
    _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> KaskoCStatus {
    paymentCall(client, .quoteCreate, out_json) { (owner, deliver) throws(KaskoError) in
        owner.createQuote(json: try readDocument(request_json), deliver: deliver)
    }
}

/// Prices an insurance, with per-call options, and hands back a result: what
/// kasko_quote_create() does, with typed access to the answer (read the
/// token with kasko_result_member_string(result, "token")).
///
/// `options` may be NULL (the client's settings).
///
/// Ownership: `*out_result` belongs to the caller, who frees it with
/// kasko_result_free(). It is never NULL when `out_result` is not NULL,
/// whatever the status (if memory ran out, it is a static
/// KASKO_ERR_INTERNAL result).
/// Thread-safety: one client may be used from many threads at once.
///
/// Returns what kasko_quote_create() returns, always equal to
/// kasko_result_status(*out_result); KASKO_ERR_INVALID_ARGUMENT also for
/// options holding a refused value, and for a NULL `out_result` (the one
/// case where no result is stored).
/// Added in 1.3.0.
@c(kasko_quote_create_v2)
public func kasko_quote_create_v2(
    _ client: OpaquePointer?,
    _ request_json: UnsafePointer<CChar>?,
    _ options: UnsafeRawPointer?,
    _ out_result: UnsafeMutablePointer<OpaquePointer?>?
) -> KaskoCStatus {
    resultCall(client, .quoteCreate, options, out_result) { (owner, options, deliver) throws(KaskoError) in
        owner.createQuote(json: try readDocument(request_json), options: options, deliver: deliver)
    }
}

/// Makes an offer: an unpaid policy, whose "id" (the policy id) and
/// "payment_token" a payment needs. It is `POST /policies?key=PUBLIC_KEY`
/// with `Accept: application/vnd.kasko.v2+json`, and the secret key as a
/// Bearer token when the client has one.
///
/// `request_json` is a NUL-terminated UTF-8 JSON object, at most 64 KiB,
/// with the non-empty string members "quote_token" (a quote's "token"),
/// "first_name", "last_name", "email" and "language" (ISO 639-1, e.g.
/// "de"), and optionally the objects "data" (the product's policy fields)
/// and "metadata" (stored with the policy, not validated by KASKO); `[]`
/// stands for an empty object, as the API itself writes one. Those are
/// checked before any I/O; the body is then sent exactly as given, other
/// members included. Each call makes a new offer, so it is sent at most
/// once: retried only when libcurl never got as far as writing it, never
/// after. When it fails with "outcome" "unknown" an offer may have been
/// made; it is harmless (an offer costs nothing until paid), and a new
/// call makes another.
///
/// On KASKO_OK, `*out_json` is the offer exactly as the API sent it: its
/// "id" is checked to be a policy id, and "payment_token" is a string, or
/// absent for a product with manual underwriting (approve the offer in
/// KASKO's dashboard, then read the token with kasko_offer_get()). Treat
/// the payment token like a key: it pays the policy. Else it is an error
/// object as for kasko_payment_create(); a validation failure (400)
/// carries the server's "errors" array.
///
/// Ownership: `*out_json` belongs to the caller, who frees it with
/// kasko_string_free(). It is NULL only if `out_json` is NULL or memory ran
/// out (then the status is KASKO_ERR_INTERNAL).
/// Thread-safety: one client may be used from many threads at once.
///
/// Returns KASKO_OK; KASKO_ERR_INVALID_ARGUMENT (NULL argument, not a JSON
/// object, a member missing or of the wrong type, a duplicate member;
/// nothing was sent); KASKO_ERR_BAD_REQUEST (400: invalid data, unknown
/// quote token); KASKO_ERR_UNAUTHORIZED (401/403); KASKO_ERR_NOT_FOUND
/// (404); KASKO_ERR_RATE_LIMITED (429); KASKO_ERR_SERVER;
/// KASKO_ERR_NETWORK; KASKO_ERR_INVALID_RESPONSE (not an offer);
/// KASKO_ERR_INTERNAL.
/// Added in 1.3.0.
@c(kasko_offer_create)
public func kasko_offer_create(
    _ client: OpaquePointer?,
    _ request_json: UnsafePointer<CChar>?,
    _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> KaskoCStatus {
    paymentCall(client, .offerCreate, out_json) { (owner, deliver) throws(KaskoError) in
        owner.createOffer(json: try readDocument(request_json), deliver: deliver)
    }
}

/// Makes an offer, with per-call options, and hands back a result: what
/// kasko_offer_create() does, with typed access to the answer (read "id"
/// and "payment_token" with kasko_result_member_string()).
///
/// `options` may be NULL (the client's settings).
///
/// Ownership: `*out_result` belongs to the caller, who frees it with
/// kasko_result_free(). It is never NULL when `out_result` is not NULL,
/// whatever the status (if memory ran out, it is a static
/// KASKO_ERR_INTERNAL result).
/// Thread-safety: one client may be used from many threads at once.
///
/// Returns what kasko_offer_create() returns, always equal to
/// kasko_result_status(*out_result); KASKO_ERR_INVALID_ARGUMENT also for
/// options holding a refused value, and for a NULL `out_result` (the one
/// case where no result is stored).
/// Added in 1.3.0.
@c(kasko_offer_create_v2)
public func kasko_offer_create_v2(
    _ client: OpaquePointer?,
    _ request_json: UnsafePointer<CChar>?,
    _ options: UnsafeRawPointer?,
    _ out_result: UnsafeMutablePointer<OpaquePointer?>?
) -> KaskoCStatus {
    resultCall(client, .offerCreate, options, out_result) { (owner, options, deliver) throws(KaskoError) in
        owner.createOffer(json: try readDocument(request_json), options: options, deliver: deliver)
    }
}

/// Views an offer, as a JSON string. It is `GET /offers/{policy_id}` with
/// `Accept: application/vnd.kasko.v2+json` and the secret key as a Bearer
/// token. It is how a product with manual underwriting hands out the
/// payment token once the offer is approved.
///
/// `policy_id` is NUL-terminated, 1 to 128 characters from [A-Za-z0-9_-];
/// anything else is refused before any I/O, since it goes into the URL
/// path. The call is retried on connection failures, timeouts, 429, 502,
/// 503 and 504, up to "max_retries" times.
///
/// On KASKO_OK, `*out_json` is the offer exactly as the API sent it, and
/// its "id" is `policy_id` (an answer about another offer is
/// KASKO_ERR_INVALID_RESPONSE). It holds the customer's details and, when
/// the offer can be paid, its "payment_token": treat it like a key. Else it
/// is an error object as for kasko_payment_create().
///
/// Ownership: `*out_json` belongs to the caller, who frees it with
/// kasko_string_free(). It is NULL only if `out_json` is NULL or memory ran
/// out (then the status is KASKO_ERR_INTERNAL).
/// Thread-safety: one client may be used from many threads at once.
///
/// Returns KASKO_OK; KASKO_ERR_INVALID_ARGUMENT (NULL argument, bad policy
/// id; nothing was sent); KASKO_ERR_UNAUTHORIZED (401/403, e.g. no secret
/// key); KASKO_ERR_NOT_FOUND (404: no such offer); KASKO_ERR_RATE_LIMITED;
/// KASKO_ERR_SERVER; KASKO_ERR_NETWORK; KASKO_ERR_INVALID_RESPONSE;
/// KASKO_ERR_INTERNAL.
/// Added in 1.3.0.
@c(kasko_offer_get)
public func kasko_offer_get(
    _ client: OpaquePointer?,
    _ policy_id: UnsafePointer<CChar>?,
    _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> KaskoCStatus {
    paymentCall(client, .offerGet, out_json) { (owner, deliver) throws(KaskoError) in
        owner.getOffer(id: try readPolicyID(policy_id), deliver: deliver)
    }
}

/// Views an offer, with per-call options, and hands back a result: what
/// kasko_offer_get() does, with typed access to the answer.
///
/// `options` may be NULL (the client's settings).
///
/// Ownership: `*out_result` belongs to the caller, who frees it with
/// kasko_result_free(). It is never NULL when `out_result` is not NULL,
/// whatever the status (if memory ran out, it is a static
/// KASKO_ERR_INTERNAL result).
/// Thread-safety: one client may be used from many threads at once.
///
/// Returns what kasko_offer_get() returns, always equal to
/// kasko_result_status(*out_result); KASKO_ERR_INVALID_ARGUMENT also for
/// options holding a refused value, and for a NULL `out_result` (the one
/// case where no result is stored).
/// Added in 1.3.0.
@c(kasko_offer_get_v2)
public func kasko_offer_get_v2(
    _ client: OpaquePointer?,
    _ policy_id: UnsafePointer<CChar>?,
    _ options: UnsafeRawPointer?,
    _ out_result: UnsafeMutablePointer<OpaquePointer?>?
) -> KaskoCStatus {
    resultCall(client, .offerGet, options, out_result) { (owner, options, deliver) throws(KaskoError) in
        owner.getOffer(id: try readPolicyID(policy_id), options: options, deliver: deliver)
    }
}

/// Views a policy, as a JSON string. It is `GET /policies/{policy_id}` with
/// `Accept: application/vnd.kasko.v2+json` and the secret key as a Bearer
/// token. After a payment, KASKO creates the policy asynchronously: its
/// "status" becomes "paid" some time after the payment's answer, and this
/// call (or the policy.created webhook) is how to see it.
///
/// `policy_id` is NUL-terminated, 1 to 128 characters from [A-Za-z0-9_-];
/// anything else is refused before any I/O. The call is retried on
/// connection failures, timeouts, 429, 502, 503 and 504, up to
/// "max_retries" times.
///
/// On KASKO_OK, `*out_json` is the policy exactly as the API sent it, and
/// its "id" is `policy_id` (an answer about another policy is
/// KASKO_ERR_INVALID_RESPONSE). The response's ETag and Last-Modified
/// headers, which an update or cancel sends back as If-Match and
/// If-Unmodified-Since, are not in the string: read them with
/// kasko_policy_get_v2() and kasko_result_etag(). Else it is an error
/// object as for kasko_payment_create().
///
/// Ownership: `*out_json` belongs to the caller, who frees it with
/// kasko_string_free(). It is NULL only if `out_json` is NULL or memory ran
/// out (then the status is KASKO_ERR_INTERNAL).
/// Thread-safety: one client may be used from many threads at once.
///
/// Returns KASKO_OK; KASKO_ERR_INVALID_ARGUMENT (NULL argument, bad policy
/// id; nothing was sent); KASKO_ERR_UNAUTHORIZED (401/403, e.g. no secret
/// key); KASKO_ERR_NOT_FOUND (404: no such policy); KASKO_ERR_RATE_LIMITED;
/// KASKO_ERR_SERVER; KASKO_ERR_NETWORK; KASKO_ERR_INVALID_RESPONSE;
/// KASKO_ERR_INTERNAL.
/// Added in 1.3.0.
@c(kasko_policy_get)
public func kasko_policy_get(
    _ client: OpaquePointer?,
    _ policy_id: UnsafePointer<CChar>?,
    _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> KaskoCStatus {
    paymentCall(client, .policyGet, out_json) { (owner, deliver) throws(KaskoError) in
        owner.getPolicy(id: try readPolicyID(policy_id), deliver: deliver)
    }
}

/// Views a policy, with per-call options, and hands back a result: what
/// kasko_policy_get() does, with typed access to the answer (read "status"
/// with kasko_result_member_string()) and to the response's ETag and
/// Last-Modified (kasko_result_etag(), kasko_result_last_modified()).
///
/// `options` may be NULL (the client's settings).
///
/// Ownership: `*out_result` belongs to the caller, who frees it with
/// kasko_result_free(). It is never NULL when `out_result` is not NULL,
/// whatever the status (if memory ran out, it is a static
/// KASKO_ERR_INTERNAL result).
/// Thread-safety: one client may be used from many threads at once.
///
/// Returns what kasko_policy_get() returns, always equal to
/// kasko_result_status(*out_result); KASKO_ERR_INVALID_ARGUMENT also for
/// options holding a refused value, and for a NULL `out_result` (the one
/// case where no result is stored).
/// Added in 1.3.0.
@c(kasko_policy_get_v2)
public func kasko_policy_get_v2(
    _ client: OpaquePointer?,
    _ policy_id: UnsafePointer<CChar>?,
    _ options: UnsafeRawPointer?,
    _ out_result: UnsafeMutablePointer<OpaquePointer?>?
) -> KaskoCStatus {
    resultCall(client, .policyGet, options, out_result) { (owner, options, deliver) throws(KaskoError) in
        owner.getPolicy(id: try readPolicyID(policy_id), options: options, deliver: deliver)
    }
}

/// Finds out what became of a payment create whose "outcome" was
/// "unknown" (sent, no answer: it may have paid), without ever making a
/// second payment, and hands back a result saying so.
///
/// Pass the same four fields the lost create had (as for
/// kasko_payment_create_v2()). The call first views the policy
/// (`GET /policies/{policy_id}`): "status" "paid" answers at once. Else it
/// sends the identical create once more, relying on the API's rule that a
/// policy has at most one live payment: a create on a policy with a pending
/// payment is refused with 422 naming it, on a paid policy with 400 "…
/// already paid", so the repeated create either reads back what the lost
/// one did, or, if the lost one never reached the point of paying, is
/// itself the first payment. It is sent at most once, like any create.
///
/// On KASKO_OK the result's JSON is an object "payment_resolution" whose
/// string "state" is one of:
/// - "paid": the policy is paid (by the lost create, or by this call);
/// - "pending": a payment exists and has not settled; "payment_id" names
///   it when the answer did (view it with kasko_payment_get_v2(), or wait
///   for the policy to become paid);
/// - "not_paid": no payment exists on the policy, and the create is
///   refused as it stands ("message" says why, e.g. an unknown policy or a
///   wrong token), or the payment this call made was declined
///   ("failed"): it is safe to create again once the cause is mended.
/// It also has "policy_id", "payment_id" (string or null),
/// "created_by_this_call" (true when the lost create had not paid and this
/// call made the payment), "evidence" ("policy_paid", "already_paid",
/// "pending_payment", "created" or "create_refused") and "message". Read
/// them with kasko_result_member_string() and kasko_result_member_bool().
/// The result's HTTP status and request id are the last answer's; its
/// attempts and time are both calls' together.
///
/// On any other status nothing was settled: the policy view failed, or the
/// repeated create got no usable answer (401/403, 429, 5xx, no answer: its
/// "outcome" says whether it was sent). Call again later; it stays safe.
///
/// Ownership: `*out_result` belongs to the caller, who frees it with
/// kasko_result_free(). It is never NULL when `out_result` is not NULL.
/// The library keeps no pointer to the arguments.
/// Thread-safety: one client may be used from many threads at once; two
/// resolutions of one policy at once are safe too (the API serialises
/// payments per policy), and at most one of them makes a payment.
///
/// Returns KASKO_OK (read "state"); KASKO_ERR_INVALID_ARGUMENT (a NULL or
/// refused field, options holding a refused value, a NULL `out_result`);
/// otherwise the status of the call that failed, as kasko_policy_get() or
/// kasko_payment_create() return it.
/// Added in 1.3.0.
@c(kasko_payment_resolve)
public func kasko_payment_resolve(
    _ client: OpaquePointer?,
    _ token: UnsafePointer<CChar>?,
    _ provider: UnsafePointer<CChar>?,
    _ method: UnsafePointer<CChar>?,
    _ policy_id: UnsafePointer<CChar>?,
    _ options: UnsafeRawPointer?,
    _ out_result: UnsafeMutablePointer<OpaquePointer?>?
) -> KaskoCStatus {
    resultCall(client, .paymentCreate, options, out_result) { (owner, options, deliver) throws(KaskoError) in
        let request = try paymentRequest(token, provider, method, policy_id)
        // The policy id goes into a URL path first.
        _ = try PolicyID(request.policyID)
        return owner.resolvePayment(request, options: options, deliver: deliver)
    }
}

func readDocument(_ pointer: UnsafePointer<CChar>?) throws(KaskoError) -> String {
    try CStrings.read(pointer, name: "request_json", limit: CStrings.maximumDocumentBytes)
}

func readPolicyID(_ pointer: UnsafePointer<CChar>?) throws(KaskoError) -> String {
    try CStrings.read(pointer, name: "policy_id", limit: PolicyID.maximumLength)
}
