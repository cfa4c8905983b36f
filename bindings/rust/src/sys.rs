//! The raw C API of `kasko.h`, declared by hand (no bindgen), one to one.
//!
//! Everything here is `unsafe` and follows the header's contract: every
//! `*mut c_char` handed out (only by the 1.0 calls) is freed with
//! [`kasko_string_free`], the client with [`kasko_client_free`], a result
//! with [`kasko_result_free`], call options with [`kasko_call_options_free`].
//! Prefer the safe [`Client`](crate::Client), which uses none of the 1.0
//! calls that hand out JSON text (`kasko_client_new`, `kasko_payment_create`,
//! `kasko_payment_get`) and so never needs `kasko_string_free`.
//!
//! Nothing here is retyped by guesswork: `tests/header.rs` reads `kasko.h`
//! (`KASKO_INCLUDE_DIR`, else `../../include`) and checks every constant's
//! value and type and every function's name and signature against it, both
//! ways.
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int, c_long, c_uint, c_void};

/// `KASKO_VERSION_MAJOR` of the header this module was written from.
pub const KASKO_VERSION_MAJOR: c_int = 1;
/// `KASKO_VERSION_MINOR` of the header this module was written from.
pub const KASKO_VERSION_MINOR: c_int = 4;
/// `KASKO_VERSION_PATCH` of the header this module was written from.
pub const KASKO_VERSION_PATCH: c_int = 0;
/// `KASKO_VERSION_NUMBER`, `MAJOR*1000000 + MINOR*1000 + PATCH`: the oldest
/// library this module works with ([`kasko_version_number`] is at least this).
pub const KASKO_VERSION_NUMBER: c_int = 1004000;

/// `kasko_status`: a C enum without negative values, which C compilers
/// give the type `unsigned int` (as bindgen would declare it).
pub type kasko_status = c_uint;

/// Success.
pub const KASKO_OK: kasko_status = 0;
/// Refused before any network I/O.
pub const KASKO_ERR_INVALID_ARGUMENT: kasko_status = 1;
/// HTTP 400.
pub const KASKO_ERR_BAD_REQUEST: kasko_status = 2;
/// HTTP 401 or 403.
pub const KASKO_ERR_UNAUTHORIZED: kasko_status = 3;
/// HTTP 404.
pub const KASKO_ERR_NOT_FOUND: kasko_status = 4;
/// HTTP 422: the policy already has a pending payment.
pub const KASKO_ERR_PENDING_PAYMENT: kasko_status = 5;
/// HTTP 429.
pub const KASKO_ERR_RATE_LIMITED: kasko_status = 6;
/// HTTP 5xx or an undocumented status.
pub const KASKO_ERR_SERVER: kasko_status = 7;
/// No usable answer: DNS, connect, TLS, timeout, reset.
pub const KASKO_ERR_NETWORK: kasko_status = 8;
/// The answer was not the documented JSON, or too large.
pub const KASKO_ERR_INVALID_RESPONSE: kasko_status = 9;
/// A failure inside the library.
pub const KASKO_ERR_INTERNAL: kasko_status = 10;
/// A webhook's signature does not match its body and secret (1.3).
pub const KASKO_ERR_BAD_SIGNATURE: kasko_status = 11;
/// An asynchronous call ended before its answer: `kasko_call_cancel`, or
/// `kasko_client_free` with the call in flight (1.4). The outcome says
/// whether a request may have been sent.
pub const KASKO_ERR_CANCELLED: kasko_status = 12;

/// `kasko_outcome`: what a call's request may have done. A C enum without
/// negative values, so `unsigned int`, like [`kasko_status`].
pub type kasko_outcome = c_uint;

/// The call succeeded (status [`KASKO_OK`]).
pub const KASKO_OUTCOME_SUCCEEDED: kasko_outcome = 0;
/// No byte of the request can have been written.
pub const KASKO_OUTCOME_NOT_SENT: kasko_outcome = 1;
/// The server answered 4xx and did not act.
pub const KASKO_OUTCOME_REJECTED: kasko_outcome = 2;
/// May have taken effect: look before creating again.
pub const KASKO_OUTCOME_UNKNOWN: kasko_outcome = 3;

/// `kasko_json_type`: the JSON type of a result's top-level member.
pub type kasko_json_type = c_uint;

/// No member of that name, or more than one (ambiguous), or NULL arguments.
pub const KASKO_JSON_NONE: kasko_json_type = 0;
/// `null`.
pub const KASKO_JSON_NULL: kasko_json_type = 1;
/// `true` or `false`.
pub const KASKO_JSON_BOOL: kasko_json_type = 2;
/// A number.
pub const KASKO_JSON_NUMBER: kasko_json_type = 3;
/// A string.
pub const KASKO_JSON_STRING: kasko_json_type = 4;
/// An array.
pub const KASKO_JSON_ARRAY: kasko_json_type = 5;
/// An object.
pub const KASKO_JSON_OBJECT: kasko_json_type = 6;

/// `kasko_client`: opaque, only ever behind a pointer.
#[repr(C)]
pub struct kasko_client {
    _opaque: [u8; 0],
    // Not Send, Sync or Unpin by itself: the safe wrapper decides.
    _marker: std::marker::PhantomData<(*mut u8, std::marker::PhantomPinned)>,
}

/// `kasko_result`: opaque and immutable, only ever behind a pointer.
#[repr(C)]
pub struct kasko_result {
    _opaque: [u8; 0],
    _marker: std::marker::PhantomData<(*mut u8, std::marker::PhantomPinned)>,
}

/// `kasko_call_options`: opaque, only ever behind a pointer.
#[repr(C)]
pub struct kasko_call_options {
    _opaque: [u8; 0],
    _marker: std::marker::PhantomData<(*mut u8, std::marker::PhantomPinned)>,
}

/// `kasko_config`: opaque; made by [`kasko_config_new`], freed by [`kasko_config_free`].
#[repr(C)]
pub struct kasko_config {
    _opaque: [u8; 0],
    _marker: std::marker::PhantomData<(*mut u8, std::marker::PhantomPinned)>,
}

/// `kasko_event_hook` (1.2): called with a borrowed event result and the
/// user data given to [`kasko_client_set_event_hook`]; `None` is NULL.
pub type kasko_event_hook = Option<unsafe extern "C" fn(event: *const kasko_result, user_data: *mut c_void)>;

/// `kasko_callback` (1.4): an asynchronous call's completion, called exactly
/// once per accepted call on the client's engine thread, with the result
/// (owned by the callback: free it with [`kasko_result_free`]) and the user
/// data the call was made with. `None` is NULL, which the calls refuse.
pub type kasko_callback = Option<unsafe extern "C" fn(result: *mut kasko_result, user_data: *mut c_void)>;

extern "C" {
    /// `const char *kasko_version(void)`: static.
    pub fn kasko_version() -> *const c_char;
    /// `const char *kasko_status_name(kasko_status)`: static.
    pub fn kasko_status_name(status: kasko_status) -> *const c_char;
    /// `kasko_status kasko_client_new(const char *, kasko_client **, char **)`.
    pub fn kasko_client_new(
        config_json: *const c_char,
        out_client: *mut *mut kasko_client,
        out_error_json: *mut *mut c_char,
    ) -> kasko_status;
    /// `void kasko_client_free(kasko_client *)`: NULL does nothing.
    pub fn kasko_client_free(client: *mut kasko_client);
    /// `kasko_status kasko_client_set_event_hook(kasko_client *, kasko_event_hook, void *)`
    /// (1.2): None clears the hook.
    pub fn kasko_client_set_event_hook(
        client: *mut kasko_client,
        hook: kasko_event_hook,
        user_data: *mut c_void,
    ) -> kasko_status;
    /// `kasko_status kasko_payment_create(kasko_client *, const char *, char **)`.
    pub fn kasko_payment_create(
        client: *mut kasko_client,
        request_json: *const c_char,
        out_json: *mut *mut c_char,
    ) -> kasko_status;
    /// `kasko_status kasko_payment_get(kasko_client *, const char *, char **)`.
    pub fn kasko_payment_get(
        client: *mut kasko_client,
        payment_id: *const c_char,
        out_json: *mut *mut c_char,
    ) -> kasko_status;
    /// `void kasko_string_free(char *)`: NULL does nothing.
    pub fn kasko_string_free(string: *mut c_char);

    // ---- 1.1 (version node KASKO_1.1) ----------------------------------

    /// `int kasko_version_number(void)`: the library's `KASKO_VERSION_NUMBER`.
    pub fn kasko_version_number() -> c_int;
    /// `const char *kasko_outcome_name(kasko_outcome)`: static.
    pub fn kasko_outcome_name(outcome: kasko_outcome) -> *const c_char;

    /// `kasko_status kasko_client_new_v2(const char *, kasko_client **, kasko_result **)`:
    /// as [`kasko_client_new`], a refusal handed out as a result (NULL on success).
    pub fn kasko_client_new_v2(
        config_json: *const c_char,
        out_client: *mut *mut kasko_client,
        out_result: *mut *mut kasko_result,
    ) -> kasko_status;

    /// `kasko_config *kasko_config_new(void)`: NULL only if out of memory.
    pub fn kasko_config_new() -> *mut kasko_config;
    /// `void kasko_config_free(kasko_config *)`: NULL does nothing.
    pub fn kasko_config_free(config: *mut kasko_config);
    /// `kasko_status kasko_config_set_string(kasko_config *, const char *key, const char *value)`.
    pub fn kasko_config_set_string(
        config: *mut kasko_config,
        key: *const c_char,
        value: *const c_char,
    ) -> kasko_status;
    /// `kasko_status kasko_config_set_int(kasko_config *, const char *key, long value)`.
    pub fn kasko_config_set_int(config: *mut kasko_config, key: *const c_char, value: c_long) -> kasko_status;
    /// `kasko_status kasko_client_new_from_config(const kasko_config *, kasko_client **, kasko_result **)`.
    pub fn kasko_client_new_from_config(
        config: *const kasko_config,
        out_client: *mut *mut kasko_client,
        out_result: *mut *mut kasko_result,
    ) -> kasko_status;

    /// `kasko_status kasko_payment_create_v2(kasko_client *, const char *token,
    /// const char *provider, const char *method, const char *policy_id,
    /// const kasko_call_options *, kasko_result **)`.
    pub fn kasko_payment_create_v2(
        client: *mut kasko_client,
        token: *const c_char,
        provider: *const c_char,
        method: *const c_char,
        policy_id: *const c_char,
        options: *const kasko_call_options,
        out_result: *mut *mut kasko_result,
    ) -> kasko_status;
    /// `kasko_status kasko_payment_get_v2(kasko_client *, const char *,
    /// const kasko_call_options *, kasko_result **)`.
    pub fn kasko_payment_get_v2(
        client: *mut kasko_client,
        payment_id: *const c_char,
        options: *const kasko_call_options,
        out_result: *mut *mut kasko_result,
    ) -> kasko_status;

    /// `kasko_call_options *kasko_call_options_new(void)`: NULL only if out of memory.
    pub fn kasko_call_options_new() -> *mut kasko_call_options;
    /// `void kasko_call_options_free(kasko_call_options *)`: NULL does nothing.
    pub fn kasko_call_options_free(options: *mut kasko_call_options);
    /// `kasko_status kasko_call_options_set_timeout_ms(kasko_call_options *, long)`.
    pub fn kasko_call_options_set_timeout_ms(
        options: *mut kasko_call_options,
        timeout_ms: c_long,
    ) -> kasko_status;
    /// `kasko_status kasko_call_options_set_traceparent(kasko_call_options *, const char *)`.
    pub fn kasko_call_options_set_traceparent(
        options: *mut kasko_call_options,
        traceparent: *const c_char,
    ) -> kasko_status;
    /// `kasko_status kasko_call_options_set_tracestate(kasko_call_options *, const char *)`.
    pub fn kasko_call_options_set_tracestate(
        options: *mut kasko_call_options,
        tracestate: *const c_char,
    ) -> kasko_status;

    /// `kasko_status kasko_call_options_check(const kasko_call_options *, kasko_result **)`:
    /// the error a call made with these options would return (NULL when none).
    pub fn kasko_call_options_check(
        options: *const kasko_call_options,
        out_result: *mut *mut kasko_result,
    ) -> kasko_status;

    /// `void kasko_result_free(kasko_result *)`: NULL (and the static
    /// out-of-memory result) does nothing.
    pub fn kasko_result_free(result: *mut kasko_result);
    /// `kasko_status kasko_result_status(const kasko_result *)`.
    pub fn kasko_result_status(result: *const kasko_result) -> kasko_status;
    /// `const char *kasko_result_json(const kasko_result *)`: owned by the result.
    pub fn kasko_result_json(result: *const kasko_result) -> *const c_char;
    /// `kasko_outcome kasko_result_outcome(const kasko_result *)`.
    pub fn kasko_result_outcome(result: *const kasko_result) -> kasko_outcome;
    /// `int kasko_result_http_status(const kasko_result *)`: 0 without a response.
    pub fn kasko_result_http_status(result: *const kasko_result) -> c_int;
    /// `int kasko_result_retryable(const kasko_result *)`: 1 or 0.
    pub fn kasko_result_retryable(result: *const kasko_result) -> c_int;
    /// `int kasko_result_attempts(const kasko_result *)`.
    pub fn kasko_result_attempts(result: *const kasko_result) -> c_int;
    /// `const char *kasko_result_message(const kasko_result *)`: NULL on success.
    pub fn kasko_result_message(result: *const kasko_result) -> *const c_char;
    /// `const char *kasko_result_request_id(const kasko_result *)`: NULL if none.
    pub fn kasko_result_request_id(result: *const kasko_result) -> *const c_char;
    /// `const char *kasko_result_pending_payment_id(const kasko_result *)`: NULL if none.
    pub fn kasko_result_pending_payment_id(result: *const kasko_result) -> *const c_char;
    /// `int64_t kasko_result_total_time_us(const kasko_result *)`: the call's
    /// wall time in microseconds (1.2).
    pub fn kasko_result_total_time_us(result: *const kasko_result) -> i64;

    /// `kasko_json_type kasko_result_member_type(const kasko_result *, const char *)`.
    pub fn kasko_result_member_type(
        result: *const kasko_result,
        name: *const c_char,
    ) -> kasko_json_type;
    /// `kasko_status kasko_result_member_string(const kasko_result *, const char *,
    /// const char **, size_t *)`.
    pub fn kasko_result_member_string(
        result: *const kasko_result,
        name: *const c_char,
        out_value: *mut *const c_char,
        out_length: *mut usize,
    ) -> kasko_status;
    /// `kasko_status kasko_result_member_int64(const kasko_result *, const char *, int64_t *)`.
    pub fn kasko_result_member_int64(
        result: *const kasko_result,
        name: *const c_char,
        out_value: *mut i64,
    ) -> kasko_status;
    /// `kasko_status kasko_result_member_double(const kasko_result *, const char *, double *)`.
    pub fn kasko_result_member_double(
        result: *const kasko_result,
        name: *const c_char,
        out_value: *mut f64,
    ) -> kasko_status;
    /// `kasko_status kasko_result_member_bool(const kasko_result *, const char *, int *)`.
    pub fn kasko_result_member_bool(
        result: *const kasko_result,
        name: *const c_char,
        out_value: *mut c_int,
    ) -> kasko_status;
    /// `kasko_status kasko_result_member_json(const kasko_result *, const char *,
    /// const char **, size_t *)`.
    pub fn kasko_result_member_json(
        result: *const kasko_result,
        name: *const c_char,
        out_json: *mut *const c_char,
        out_length: *mut usize,
    ) -> kasko_status;

    /// `kasko_status kasko_result_new_error(kasko_status, const char *, kasko_result **)`:
    /// an error result made by the library, for an argument refused here.
    pub fn kasko_result_new_error(
        status: kasko_status,
        message: *const c_char,
        out_result: *mut *mut kasko_result,
    ) -> kasko_status;

    /// `kasko_status kasko_webhook_verify(const char *secret, const char *payload,
    /// size_t payload_len, const char *signature_header)` (1.3): KASKO_OK when
    /// the header is `sha1=` and the HMAC-SHA1 of the payload's bytes.
    pub fn kasko_webhook_verify(
        secret: *const c_char,
        payload: *const c_char,
        payload_len: usize,
        signature_header: *const c_char,
    ) -> kasko_status;

    /// `kasko_status kasko_quote_create(kasko_client *, const char *request_json,
    /// char **out_json)` (1.3): `POST /quotes`, the answer as a string.
    pub fn kasko_quote_create(
        client: *mut kasko_client,
        request_json: *const c_char,
        out_json: *mut *mut c_char,
    ) -> kasko_status;
    /// `kasko_status kasko_quote_create_v2(kasko_client *, const char *request_json,
    /// const kasko_call_options *, kasko_result **)` (1.3).
    pub fn kasko_quote_create_v2(
        client: *mut kasko_client,
        request_json: *const c_char,
        options: *const kasko_call_options,
        out_result: *mut *mut kasko_result,
    ) -> kasko_status;
    /// `kasko_status kasko_offer_create(kasko_client *, const char *request_json,
    /// char **out_json)` (1.3): `POST /policies`, the answer as a string.
    pub fn kasko_offer_create(
        client: *mut kasko_client,
        request_json: *const c_char,
        out_json: *mut *mut c_char,
    ) -> kasko_status;
    /// `kasko_status kasko_offer_create_v2(kasko_client *, const char *request_json,
    /// const kasko_call_options *, kasko_result **)` (1.3).
    pub fn kasko_offer_create_v2(
        client: *mut kasko_client,
        request_json: *const c_char,
        options: *const kasko_call_options,
        out_result: *mut *mut kasko_result,
    ) -> kasko_status;
    /// `kasko_status kasko_offer_get(kasko_client *, const char *policy_id,
    /// char **out_json)` (1.3): `GET /offers/{id}`, the answer as a string.
    pub fn kasko_offer_get(
        client: *mut kasko_client,
        policy_id: *const c_char,
        out_json: *mut *mut c_char,
    ) -> kasko_status;
    /// `kasko_status kasko_offer_get_v2(kasko_client *, const char *policy_id,
    /// const kasko_call_options *, kasko_result **)` (1.3).
    pub fn kasko_offer_get_v2(
        client: *mut kasko_client,
        policy_id: *const c_char,
        options: *const kasko_call_options,
        out_result: *mut *mut kasko_result,
    ) -> kasko_status;
    /// `kasko_status kasko_policy_get(kasko_client *, const char *policy_id,
    /// char **out_json)` (1.3): `GET /policies/{id}`, the answer as a string.
    pub fn kasko_policy_get(
        client: *mut kasko_client,
        policy_id: *const c_char,
        out_json: *mut *mut c_char,
    ) -> kasko_status;
    /// `kasko_status kasko_policy_get_v2(kasko_client *, const char *policy_id,
    /// const kasko_call_options *, kasko_result **)` (1.3): read the headers
    /// with `kasko_result_etag` and `kasko_result_last_modified`.
    pub fn kasko_policy_get_v2(
        client: *mut kasko_client,
        policy_id: *const c_char,
        options: *const kasko_call_options,
        out_result: *mut *mut kasko_result,
    ) -> kasko_status;
    /// `kasko_status kasko_payment_resolve(kasko_client *, const char *token,
    /// const char *provider, const char *method, const char *policy_id,
    /// const kasko_call_options *, kasko_result **)` (1.3): what became of a
    /// create whose outcome was unknown, without a second payment.
    pub fn kasko_payment_resolve(
        client: *mut kasko_client,
        token: *const c_char,
        provider: *const c_char,
        method: *const c_char,
        policy_id: *const c_char,
        options: *const kasko_call_options,
        out_result: *mut *mut kasko_result,
    ) -> kasko_status;
    /// `const char *kasko_result_etag(const kasko_result *)` (1.3): a policy
    /// view's ETag header; NULL for any other result or when none was sent.
    pub fn kasko_result_etag(result: *const kasko_result) -> *const c_char;
    /// `const char *kasko_result_last_modified(const kasko_result *)` (1.3): a
    /// policy view's Last-Modified header; NULL otherwise.
    pub fn kasko_result_last_modified(result: *const kasko_result) -> *const c_char;

    // ---- 1.4 (version node KASKO_1.4): asynchronous calls ----------------

    /// `kasko_status kasko_payment_create_async(kasko_client *, const char *token,
    /// const char *provider, const char *method, const char *policy_id,
    /// const kasko_call_options *, kasko_callback, void *user_data, uint64_t *out_call)`:
    /// [`kasko_payment_create_v2`] without blocking. On `KASKO_OK` the callback
    /// is called exactly once, later, on the client's engine thread; else never.
    pub fn kasko_payment_create_async(
        client: *mut kasko_client,
        token: *const c_char,
        provider: *const c_char,
        method: *const c_char,
        policy_id: *const c_char,
        options: *const kasko_call_options,
        callback: kasko_callback,
        user_data: *mut c_void,
        out_call: *mut u64,
    ) -> kasko_status;
    /// `kasko_status kasko_payment_get_async(kasko_client *, const char *payment_id,
    /// const kasko_call_options *, kasko_callback, void *, uint64_t *)` (1.4).
    pub fn kasko_payment_get_async(
        client: *mut kasko_client,
        payment_id: *const c_char,
        options: *const kasko_call_options,
        callback: kasko_callback,
        user_data: *mut c_void,
        out_call: *mut u64,
    ) -> kasko_status;
    /// `kasko_status kasko_quote_create_async(kasko_client *, const char *request_json,
    /// const kasko_call_options *, kasko_callback, void *, uint64_t *)` (1.4).
    pub fn kasko_quote_create_async(
        client: *mut kasko_client,
        request_json: *const c_char,
        options: *const kasko_call_options,
        callback: kasko_callback,
        user_data: *mut c_void,
        out_call: *mut u64,
    ) -> kasko_status;
    /// `kasko_status kasko_offer_create_async(kasko_client *, const char *request_json,
    /// const kasko_call_options *, kasko_callback, void *, uint64_t *)` (1.4).
    pub fn kasko_offer_create_async(
        client: *mut kasko_client,
        request_json: *const c_char,
        options: *const kasko_call_options,
        callback: kasko_callback,
        user_data: *mut c_void,
        out_call: *mut u64,
    ) -> kasko_status;
    /// `kasko_status kasko_offer_get_async(kasko_client *, const char *policy_id,
    /// const kasko_call_options *, kasko_callback, void *, uint64_t *)` (1.4).
    pub fn kasko_offer_get_async(
        client: *mut kasko_client,
        policy_id: *const c_char,
        options: *const kasko_call_options,
        callback: kasko_callback,
        user_data: *mut c_void,
        out_call: *mut u64,
    ) -> kasko_status;
    /// `kasko_status kasko_policy_get_async(kasko_client *, const char *policy_id,
    /// const kasko_call_options *, kasko_callback, void *, uint64_t *)` (1.4).
    pub fn kasko_policy_get_async(
        client: *mut kasko_client,
        policy_id: *const c_char,
        options: *const kasko_call_options,
        callback: kasko_callback,
        user_data: *mut c_void,
        out_call: *mut u64,
    ) -> kasko_status;
    /// `kasko_status kasko_payment_resolve_async(kasko_client *, const char *token,
    /// const char *provider, const char *method, const char *policy_id,
    /// const kasko_call_options *, kasko_callback, void *user_data, uint64_t *out_call)`
    /// (1.4): [`kasko_payment_resolve`] without blocking, both steps under one call id.
    pub fn kasko_payment_resolve_async(
        client: *mut kasko_client,
        token: *const c_char,
        provider: *const c_char,
        method: *const c_char,
        policy_id: *const c_char,
        options: *const kasko_call_options,
        callback: kasko_callback,
        user_data: *mut c_void,
        out_call: *mut u64,
    ) -> kasko_status;
    /// `kasko_status kasko_call_cancel(kasko_client *, uint64_t call)` (1.4):
    /// asks for a call in flight to end with `KASKO_ERR_CANCELLED`; its
    /// callback (never run inside this function) says what happened.
    pub fn kasko_call_cancel(client: *mut kasko_client, call: u64) -> kasko_status;
}
