//! The raw C API of `kasko.h`, declared by hand (no bindgen), one to one.
//!
//! Everything here is `unsafe` and follows the header's contract: every
//! `*mut c_char` handed out is freed with [`kasko_string_free`], the client
//! with [`kasko_client_free`]. Prefer the safe [`Client`](crate::Client).
#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_uint};

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

/// `kasko_client`: opaque, only ever behind a pointer.
#[repr(C)]
pub struct kasko_client {
    _opaque: [u8; 0],
    // Not Send, Sync or Unpin by itself: the safe wrapper decides.
    _marker: std::marker::PhantomData<(*mut u8, std::marker::PhantomPinned)>,
}

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
}
