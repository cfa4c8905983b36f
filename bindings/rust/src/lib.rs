//! `kasko`: a client for the KASKO Payments API over libkasko, the C library.
//!
//! ```no_run
//! let client = kasko::Client::new(
//!     r#"{"public_key":"pk_test_...","secret_key":"sk_test_..."}"#,
//! )?;
//! let payment = client.create_payment(
//!     r#"{"token":"...","provider":"invoice","method":"invoice","policy_id":"tpol_..."}"#,
//! )?;
//! println!("{payment}");
//! let same = client.get_payment("t84223322f013e2287210b6295010fc6d")?;
//! # Ok::<(), kasko::Error>(())
//! ```
//!
//! The crate translates types and ownership only: configuration, requests
//! and results are the C API's JSON text, unchanged; validation, retries and
//! the JSON shapes are the library's (see `kasko.h`).
//!
//! - [`Client`] owns one `kasko_client`; it is `Send + Sync` (the library
//!   allows concurrent calls on one client) and frees the handle on drop.
//! - Every call returns `Result<String, Error>`; [`Error`] has one variant
//!   per `kasko_status`, each carrying the library's error object.
//! - Strings from the library are copied into `String`s and freed at once
//!   with `kasko_string_free`.
#![warn(missing_docs)]

use std::ffi::{CStr, CString};
use std::fmt;
use std::os::raw::c_char;
use std::ptr::{self, NonNull};

mod json;
pub mod sys;

/// The loaded library's version, `"MAJOR.MINOR.PATCH"`.
pub fn version() -> &'static str {
    // SAFETY: a static NUL-terminated string (kasko.h).
    unsafe { static_str(sys::kasko_version()) }
}

/// The name of a `kasko_status`, e.g. `"KASKO_ERR_NOT_FOUND"`
/// (`"KASKO_STATUS_UNKNOWN"` for a value the library does not know).
pub fn status_name(status: u32) -> &'static str {
    // SAFETY: a static NUL-terminated string (kasko.h).
    unsafe { static_str(sys::kasko_status_name(status)) }
}

unsafe fn static_str(text: *const c_char) -> &'static str {
    if text.is_null() {
        return "";
    }
    CStr::from_ptr(text).to_str().unwrap_or("")
}

/// A string handed out by the library, freed with `kasko_string_free` on drop.
struct Owned(*mut c_char);

impl Owned {
    fn text(&self) -> Option<String> {
        if self.0.is_null() {
            return None;
        }
        // SAFETY: the library hands out NUL-terminated strings.
        Some(
            unsafe { CStr::from_ptr(self.0) }
                .to_string_lossy()
                .into_owned(),
        )
    }
}

impl Drop for Owned {
    fn drop(&mut self) {
        // SAFETY: owned by us, freed once; NULL is allowed.
        unsafe { sys::kasko_string_free(self.0) }
    }
}

/// What the library said about a failed call: the status and its error
/// object, with typed accessors for the members most callers need.
#[derive(Clone, PartialEq, Eq)]
pub struct ErrorDetails {
    status: u32,
    json: String,
    message: String,
    http_status: Option<u16>,
    pending_payment_id: Option<String>,
}

impl ErrorDetails {
    fn new(status: u32, json: String) -> ErrorDetails {
        let member = |key| json::member(&json, key);
        let message = member("message")
            .and_then(json::string)
            .unwrap_or_else(|| status_name(status).to_string());
        let http_status = member("http_status").and_then(json::integer);
        let pending_payment_id = member("pending_payment_id").and_then(json::string);
        ErrorDetails {
            status,
            json,
            message,
            http_status,
            pending_payment_id,
        }
    }

    /// The `kasko_status` value (may be newer than this crate; see [`Error::Internal`]).
    pub fn status(&self) -> u32 {
        self.status
    }

    /// The status's name, e.g. `"KASKO_ERR_NOT_FOUND"`.
    pub fn code(&self) -> &'static str {
        status_name(self.status)
    }

    /// The error object's `"message"`: what went wrong, in words.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The API's HTTP status; `None` when no response came.
    pub fn http_status(&self) -> Option<u16> {
        self.http_status
    }

    /// With [`Error::PendingPayment`], the id of the policy's pending payment.
    pub fn pending_payment_id(&self) -> Option<&str> {
        self.pending_payment_id.as_deref()
    }

    /// The library's error object as JSON text (`"outcome"`, `"retryable"`,
    /// `"request_id"`, ...). Empty only if the library ran out of memory.
    pub fn json(&self) -> &str {
        &self.json
    }
}

impl fmt::Debug for ErrorDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorDetails")
            .field("code", &self.code())
            .field("json", &self.json)
            .finish()
    }
}

/// A failed call: one variant per `kasko_status`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// `KASKO_ERR_INVALID_ARGUMENT`: refused before any network I/O.
    InvalidArgument(ErrorDetails),
    /// `KASKO_ERR_BAD_REQUEST`: HTTP 400.
    BadRequest(ErrorDetails),
    /// `KASKO_ERR_UNAUTHORIZED`: HTTP 401 or 403.
    Unauthorized(ErrorDetails),
    /// `KASKO_ERR_NOT_FOUND`: HTTP 404.
    NotFound(ErrorDetails),
    /// `KASKO_ERR_PENDING_PAYMENT`: HTTP 422; see [`Error::pending_payment_id`].
    PendingPayment(ErrorDetails),
    /// `KASKO_ERR_RATE_LIMITED`: HTTP 429.
    RateLimited(ErrorDetails),
    /// `KASKO_ERR_SERVER`: HTTP 5xx or an undocumented status.
    Server(ErrorDetails),
    /// `KASKO_ERR_NETWORK`: no usable answer (see the JSON's `"outcome"`).
    Network(ErrorDetails),
    /// `KASKO_ERR_INVALID_RESPONSE`: not the documented JSON, or too large.
    InvalidResponse(ErrorDetails),
    /// `KASKO_ERR_INTERNAL`, or a status newer than this crate.
    Internal(ErrorDetails),
}

impl Error {
    /// The error for a non-OK status and the library's error object.
    pub fn from_status(status: u32, json: String) -> Error {
        let details = ErrorDetails::new(status, json);
        match status {
            sys::KASKO_ERR_INVALID_ARGUMENT => Error::InvalidArgument(details),
            sys::KASKO_ERR_BAD_REQUEST => Error::BadRequest(details),
            sys::KASKO_ERR_UNAUTHORIZED => Error::Unauthorized(details),
            sys::KASKO_ERR_NOT_FOUND => Error::NotFound(details),
            sys::KASKO_ERR_PENDING_PAYMENT => Error::PendingPayment(details),
            sys::KASKO_ERR_RATE_LIMITED => Error::RateLimited(details),
            sys::KASKO_ERR_SERVER => Error::Server(details),
            sys::KASKO_ERR_NETWORK => Error::Network(details),
            sys::KASKO_ERR_INVALID_RESPONSE => Error::InvalidResponse(details),
            _ => Error::Internal(details),
        }
    }

    /// The status and the error object.
    pub fn details(&self) -> &ErrorDetails {
        match self {
            Error::InvalidArgument(d)
            | Error::BadRequest(d)
            | Error::Unauthorized(d)
            | Error::NotFound(d)
            | Error::PendingPayment(d)
            | Error::RateLimited(d)
            | Error::Server(d)
            | Error::Network(d)
            | Error::InvalidResponse(d)
            | Error::Internal(d) => d,
        }
    }

    /// The `kasko_status` value.
    pub fn status(&self) -> u32 {
        self.details().status()
    }

    /// The status's name, e.g. `"KASKO_ERR_NOT_FOUND"`.
    pub fn code(&self) -> &'static str {
        self.details().code()
    }

    /// The error object's `"message"`.
    pub fn message(&self) -> &str {
        self.details().message()
    }

    /// The API's HTTP status; `None` when no response came.
    pub fn http_status(&self) -> Option<u16> {
        self.details().http_status()
    }

    /// With [`Error::PendingPayment`], the id of the policy's pending payment.
    pub fn pending_payment_id(&self) -> Option<&str> {
        self.details().pending_payment_id()
    }

    /// The library's error object as JSON text.
    pub fn json(&self) -> &str {
        self.details().json()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for Error {}

/// A C string cannot carry a NUL character: rather than let C see a shorter
/// string, refuse it with the error object the library uses before any I/O.
fn c_string(value: &str, name: &str) -> Result<CString, Error> {
    CString::new(value).map_err(|_| {
        Error::from_status(
            sys::KASKO_ERR_INVALID_ARGUMENT,
            format!(
                "{{\"object\":\"error\",\"code\":\"KASKO_ERR_INVALID_ARGUMENT\",\"http_status\":null,\
                 \"status\":null,\"message\":\"{name} contains a NUL character\",\
                 \"pending_payment_id\":null,\"retryable\":false,\"outcome\":\"not_sent\",\
                 \"attempts\":0,\"request_id\":null}}"
            ),
        )
    })
}

/// Turns a status and the string the library handed out into the result.
fn result(status: sys::kasko_status, out: Owned) -> Result<String, Error> {
    match (status, out.text()) {
        (sys::KASKO_OK, Some(text)) => Ok(text),
        (sys::KASKO_OK, None) => Err(Error::from_status(sys::KASKO_ERR_INTERNAL, String::new())),
        (status, text) => Err(Error::from_status(status, text.unwrap_or_default())),
    }
}

/// A client of the KASKO Payments API, owning one `kasko_client`.
///
/// One `Client` may be shared between threads (`&Client` is enough to call
/// it; wrap it in an `Arc` or use scoped threads). Dropping it frees the handle.
pub struct Client {
    handle: NonNull<sys::kasko_client>,
}

// SAFETY: kasko.h: "One client may be used from many threads at once", and
// kasko_client_free may run on any thread once no other uses the client,
// which Drop's `&mut self` guarantees.
unsafe impl Send for Client {}
unsafe impl Sync for Client {}

impl Client {
    /// Creates a client from the C API's JSON configuration (`"public_key"`,
    /// `"secret_key"`, `"base_url"`, `"timeout_ms"`, ...; see
    /// `kasko_client_new`). A bad configuration is [`Error::InvalidArgument`].
    pub fn new(config_json: &str) -> Result<Client, Error> {
        let config = c_string(config_json, "config_json")?;
        let mut handle = ptr::null_mut();
        let mut error = ptr::null_mut();
        // SAFETY: valid C string and out pointers; the results are owned here.
        let status = unsafe { sys::kasko_client_new(config.as_ptr(), &mut handle, &mut error) };
        let error = Owned(error);
        match (status, NonNull::new(handle)) {
            (sys::KASKO_OK, Some(handle)) => Ok(Client { handle }),
            (status, handle) => {
                if let Some(handle) = handle {
                    // Not per the contract, but never leak a handle.
                    // SAFETY: owned by us and not used again.
                    unsafe { sys::kasko_client_free(handle.as_ptr()) }
                }
                let status = if status == sys::KASKO_OK {
                    sys::KASKO_ERR_INTERNAL
                } else {
                    status
                };
                Err(Error::from_status(status, error.text().unwrap_or_default()))
            }
        }
    }

    /// Creates a payment from the C API's request JSON (`"token"`,
    /// `"provider"`, `"method"`, `"policy_id"`) and returns the payment
    /// object as the API sent it.
    pub fn create_payment(&self, request_json: &str) -> Result<String, Error> {
        let request = c_string(request_json, "request_json")?;
        let mut out = ptr::null_mut();
        // SAFETY: a live handle, a valid C string, an out pointer we own.
        let status =
            unsafe { sys::kasko_payment_create(self.handle.as_ptr(), request.as_ptr(), &mut out) };
        result(status, Owned(out))
    }

    /// Views a payment and returns the payment object as the API sent it.
    pub fn get_payment(&self, payment_id: &str) -> Result<String, Error> {
        let id = c_string(payment_id, "payment_id")?;
        let mut out = ptr::null_mut();
        // SAFETY: a live handle, a valid C string, an out pointer we own.
        let status = unsafe { sys::kasko_payment_get(self.handle.as_ptr(), id.as_ptr(), &mut out) };
        result(status, Owned(out))
    }

    /// The C handle, still owned by this `Client`.
    pub fn as_ptr(&self) -> *mut sys::kasko_client {
        self.handle.as_ptr()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // SAFETY: owned, and `&mut self` means no call is running.
        unsafe { sys::kasko_client_free(self.handle.as_ptr()) }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_version_is_1() {
        assert!(version().starts_with("1."), "{}", version());
    }

    #[test]
    fn every_status_maps_to_its_variant() {
        for status in 1..=11u32 {
            let error = Error::from_status(status, String::new());
            let expected = if status <= 10 {
                status_name(status)
            } else {
                "KASKO_STATUS_UNKNOWN"
            };
            assert_eq!(error.code(), expected);
            assert_eq!(error.status(), status);
            assert_eq!(
                error.message(),
                expected,
                "the message falls back to the name"
            );
            let variant = format!("{error:?}");
            let name: String = expected
                .trim_start_matches("KASKO_ERR_")
                .split('_')
                .map(|word| word[..1].to_string() + &word[1..].to_lowercase())
                .collect();
            let name = if status > 10 {
                "Internal".to_string()
            } else {
                name
            };
            assert!(
                variant.starts_with(&format!("{name}(")),
                "{status}: {variant}"
            );
        }
    }

    #[test]
    fn error_reads_the_error_object() {
        let error = Error::from_status(
            sys::KASKO_ERR_PENDING_PAYMENT,
            r#"{"object":"error","code":"KASKO_ERR_PENDING_PAYMENT","http_status":422,"message":"pending \"t1\"","pending_payment_id":"t1"}"#
                .to_string(),
        );
        assert!(matches!(error, Error::PendingPayment(_)));
        assert_eq!(error.http_status(), Some(422));
        assert_eq!(error.pending_payment_id(), Some("t1"));
        assert_eq!(
            error.to_string(),
            "KASKO_ERR_PENDING_PAYMENT: pending \"t1\""
        );
    }

    #[test]
    fn client_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Client>();
        check::<Error>();
    }
}

/// The README's example, compiled as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExample;
