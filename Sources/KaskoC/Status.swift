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
    ///
    /// What to do: read the answer (the payment object).
    case ok = 0
    /// The caller's input was refused before any network I/O: a NULL
    /// argument, malformed JSON, an unknown key, a bad payment id.
    ///
    /// What to do: fix the input the message names. Nothing was sent, so
    /// the corrected call is safe to make; the same call again fails again.
    case errInvalidArgument = 1
    /// The API answered HTTP 400: a field is invalid, the token does not
    /// belong to the policy, or the policy is already paid.
    ///
    /// What to do: do not repeat the call unchanged: fix the field the message
    /// names, or, if the policy is already paid, stop.
    case errBadRequest = 2
    /// The API answered HTTP 401 or 403: a key is wrong or lacks the right.
    ///
    /// What to do: check the keys (a view needs the secret key); making the
    /// call again does not help.
    case errUnauthorized = 3
    /// The API answered HTTP 404: unknown payment or payment provider.
    ///
    /// What to do: check the payment id or the provider (the API also answers
    /// some key problems with 404); making the call again does not help.
    case errNotFound = 4
    /// The API answered HTTP 422: the policy already has a pending payment,
    /// whose id is in the error object's "pending_payment_id".
    ///
    /// What to do: do not create another payment: view the pending one
    /// (kasko_result_pending_payment_id()) or wait for it to settle.
    case errPendingPayment = 5
    /// The API answered HTTP 429: too many requests.
    ///
    /// What to do: slow down, then make the call again: the request was not
    /// carried out (views are already retried up to "max_retries" times,
    /// after the server's Retry-After).
    case errRateLimited = 6
    /// The API answered HTTP 5xx or another status it does not document.
    ///
    /// What to do: try again later; after a create whose outcome is
    /// "unknown", view the payment before creating it again.
    case errServer = 7
    /// No usable answer: DNS, connect, TLS, timeout or connection reset.
    /// See the error object's "outcome" before retrying a create.
    ///
    /// What to do: check the network, "base_url", "proxy" and "ca_bundle";
    /// outcome "not_sent": the call may be made again; "unknown": view the
    /// payment before creating it again.
    case errNetwork = 8
    /// The answer was not the documented JSON, or was larger than 1 MiB.
    ///
    /// What to do: check that "base_url" is the KASKO API; quote the request
    /// id to support; after a create, view the payment before creating it
    /// again.
    case errInvalidResponse = 9
    /// A failure inside the library, such as memory exhaustion.
    ///
    /// What to do: report the message; the outcome says whether the request
    /// may have been sent.
    case errInternal = 10
    /// A webhook's signature header is well formed but is not the HMAC-SHA1
    /// of the body with the secret given (kasko_webhook_verify(), added in
    /// 1.3.0): the request did not come from KASKO, or the body was altered,
    /// or the secret is not this webhook's.
    ///
    /// What to do: drop the request (answer it with a non-2xx status) and do
    /// not act on its body; check that the secret is the one KASKO gave for
    /// this webhook and that the body is the raw bytes received.
    case errBadSignature = 11
    /// An asynchronous call ended before its answer: kasko_call_cancel()
    /// asked for it, or kasko_client_free() was called while it was in
    /// flight (added in 1.4.0). Its outcome is "not_sent" when no byte of
    /// any of its attempts' requests can have been written, else "unknown":
    /// a create may still have been carried out by the server.
    ///
    /// What to do: nothing, if the cancellation was meant; after a create
    /// whose outcome is "unknown", view the policy (or resolve the payment
    /// with kasko_payment_resolve()) before creating it again.
    case errCancelled = 12

    init(_ status: KaskoStatus) {
        self = KaskoCStatus(rawValue: status.rawValue) ?? .errInternal
    }
}
