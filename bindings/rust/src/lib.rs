//! `kasko`: a client for the KASKO Payments API over libkasko, the C library.
//!
//! ```no_run
//! use kasko::{CallOptions, Client, PaymentRequest};
//! use std::time::Duration;
//!
//! let client = kasko::Client::from_config(
//!     &kasko::Config::new()
//!         .public_key("pk_test_...")
//!         .secret_key("sk_test_...")
//!         .timeout(Duration::from_secs(30)),
//! )?;
//! let request = PaymentRequest::new("ptok_...", "invoice", "invoice", "tpol_...");
//! let payment = client.create_payment(&request)?; // the payment object, as JSON text
//! println!("{payment}");
//!
//! // Per call: a time limit and W3C Trace Context headers, and a typed answer.
//! let options = CallOptions::new()
//!     .timeout(Duration::from_secs(5))
//!     .traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
//! let answer = client.get_payment_with("t84223322f013e2287210b6295010fc6d", &options)?;
//! assert_eq!(answer.member_str("object"), Some("payment"));
//! println!("{:?} after {} attempt(s)", answer.http_status(), answer.attempts());
//! # Ok::<(), kasko::Error>(())
//! ```
//!
//! The crate translates types and ownership only. Validation, retries, the
//! JSON shapes and every message are the library's (C API 1.1, `kasko.h`):
//! the crate reads no JSON itself, it asks the library's typed getters.
//!
//! - [`Client`] owns one `kasko_client`; it is `Send + Sync` (the library
//!   allows concurrent calls on one client) and frees the handle on drop.
//! - A call's result is an [`Answer`], owning one `kasko_result`: the JSON
//!   text ([`Answer::json`]) plus typed getters (status, HTTP status,
//!   [`Outcome`], attempts, request id, members by name).
//! - A failed call is an [`Error`], one variant per `kasko_status`, each
//!   wrapping the library's error result.
//! - [`CallOptions`] wraps `kasko_call_options`; an invalid value is refused
//!   by the call made with it, with the library's message, or at once by
//!   [`CallOptions::check`] / [`CallOptions::checked`] with the same error.
//! - [`Config`] wraps `kasko_config`: a client's configuration set key by
//!   key ([`Config::public_key`], [`Config::timeout`], ...; the key names
//!   are [`config_key`]'s), for [`Client::from_config`]. The library
//!   escapes the values: nothing here writes JSON. [`Client::new`] still
//!   takes the C API's JSON text.
//! - A refused configuration ([`Client::from_config`], [`Client::new`]) is
//!   an [`Error`] like any other: the library's result, with its message.
//! - With libkasko 1.2: [`Client::set_event_hook`] takes a closure called
//!   with an [`Event`] (borrowed for the call only) once per HTTP attempt
//!   and once per call end, on the calling threads, many at once; a panic
//!   in it is caught, never unwound into C. [`Answer::total_time`] is a
//!   call's wall time.
//! - With libkasko 1.3: [`verify_webhook`] checks a webhook's
//!   `X-KASKO-Signature` ([`Error::BadSignature`] when it does not match).
//! - With libkasko 1.3, the checkout: [`Client::create_quote`],
//!   [`Client::create_offer`], [`Client::get_offer`], [`Client::get_policy`]
//!   (with [`Policy::etag`] / [`Policy::last_modified`]) and
//!   [`Client::resolve_payment`] (a [`PaymentState`]), each returning a
//!   typed struct over its [`Answer`] (raw JSON plus key members); each has
//!   a `_with` form taking [`CallOptions`]. `Debug` of an [`Offer`] redacts
//!   its payment token.
//! - With libkasko 1.4, asynchronous calls: [`Client::create_payment_async`],
//!   [`Client::get_payment_async`], [`Client::create_quote_async`],
//!   [`Client::create_offer_async`], [`Client::get_offer_async`] and
//!   [`Client::get_policy_async`] (each with an `_async_with` form) start the
//!   call and return a [`CallFuture`], a std `Future` of the blocking call's
//!   result, woken by the library's callback: no runtime needed. Dropping it
//!   cancels the call; dropping the client cancels its calls in flight.
#![warn(missing_docs)]

use std::cell::Cell;
use std::ffi::{c_void, CStr, CString};
use std::fmt;
use std::marker::PhantomData;
use std::os::raw::{c_char, c_long};
use std::panic::{self, AssertUnwindSafe};
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

pub mod sys;

mod checkout;
pub use checkout::{Offer, PaymentResolution, PaymentState, Policy, Quote};

mod asynchronous;
pub use asynchronous::CallFuture;
use asynchronous::Liveness;

/// The loaded library's version, `"MAJOR.MINOR.PATCH"`.
pub fn version() -> &'static str {
    // SAFETY: a static NUL-terminated string (kasko.h).
    unsafe { static_str(sys::kasko_version()) }
}

/// The loaded library's `KASKO_VERSION_NUMBER`,
/// `MAJOR*1000000 + MINOR*1000 + PATCH` (1.1.0 is `1001000`).
pub fn version_number() -> i32 {
    // SAFETY: no arguments, no state.
    unsafe { sys::kasko_version_number() }
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

/// A string owned by a result: `None` for NULL or text that is not UTF-8.
///
/// # Safety
/// `text` is NULL or NUL-terminated and lives as long as `'a`.
unsafe fn borrowed_str<'a>(text: *const c_char) -> Option<&'a str> {
    if text.is_null() {
        return None;
    }
    CStr::from_ptr(text).to_str().ok()
}

/// `length` bytes at `text` as UTF-8, `None` for NULL or invalid UTF-8.
///
/// # Safety
/// `text` is NULL or points to `length` bytes that live as long as `'a`.
unsafe fn borrowed_bytes<'a>(text: *const c_char, length: usize) -> Option<&'a str> {
    if text.is_null() {
        return None;
    }
    std::str::from_utf8(std::slice::from_raw_parts(text.cast::<u8>(), length)).ok()
}

/// A number of microseconds from the library as a `Duration` (0 if negative).
fn micros(us: i64) -> Duration {
    Duration::from_micros(u64::try_from(us).unwrap_or(0))
}

/// The top-level members of a result's JSON, read by the library (for
/// [`Answer`] and [`Event`]). A name with a NUL character matches none.
///
/// # Safety (every function)
/// `result` is a live result that outlives `'a`.
mod members {
    use super::{borrowed_bytes, sys, JsonType};
    use std::ffi::CString;
    use std::ptr;

    pub(crate) unsafe fn json_type(result: *const sys::kasko_result, name: &str) -> Option<JsonType> {
        let name = CString::new(name).ok()?;
        JsonType::from_raw(sys::kasko_result_member_type(result, name.as_ptr()))
    }

    pub(crate) unsafe fn string<'a>(result: *const sys::kasko_result, name: &str) -> Option<&'a str> {
        let name = CString::new(name).ok()?;
        let mut value = ptr::null();
        let mut length = 0usize;
        if sys::kasko_result_member_string(result, name.as_ptr(), &mut value, &mut length) != sys::KASKO_OK {
            return None;
        }
        // `length` bytes owned by the result.
        borrowed_bytes(value, length)
    }

    pub(crate) unsafe fn int64(result: *const sys::kasko_result, name: &str) -> Option<i64> {
        let name = CString::new(name).ok()?;
        let mut value = 0i64;
        (sys::kasko_result_member_int64(result, name.as_ptr(), &mut value) == sys::KASKO_OK).then_some(value)
    }

    pub(crate) unsafe fn double(result: *const sys::kasko_result, name: &str) -> Option<f64> {
        let name = CString::new(name).ok()?;
        let mut value = 0f64;
        (sys::kasko_result_member_double(result, name.as_ptr(), &mut value) == sys::KASKO_OK).then_some(value)
    }

    pub(crate) unsafe fn boolean(result: *const sys::kasko_result, name: &str) -> Option<bool> {
        let name = CString::new(name).ok()?;
        let mut value = 0;
        (sys::kasko_result_member_bool(result, name.as_ptr(), &mut value) == sys::KASKO_OK).then_some(value != 0)
    }

    pub(crate) unsafe fn json<'a>(result: *const sys::kasko_result, name: &str) -> Option<&'a str> {
        let name = CString::new(name).ok()?;
        let mut json = ptr::null();
        let mut length = 0usize;
        if sys::kasko_result_member_json(result, name.as_ptr(), &mut json, &mut length) != sys::KASKO_OK {
            return None;
        }
        // `length` bytes owned by the result.
        borrowed_bytes(json, length)
    }
}

// ---- outcome and JSON types ------------------------------------------------

/// What a call's request may have done: `kasko_outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// `KASKO_OUTCOME_SUCCEEDED`: the call succeeded.
    Succeeded,
    /// `KASKO_OUTCOME_NOT_SENT`: no byte of the request can have been
    /// written; making the same call again is safe.
    NotSent,
    /// `KASKO_OUTCOME_REJECTED`: the server answered 4xx and did not act.
    Rejected,
    /// `KASKO_OUTCOME_UNKNOWN`: the request may have taken effect; view the
    /// payment before creating it again.
    Unknown,
    /// A value newer than this crate (the raw `kasko_outcome`).
    Other(u32),
}

impl Outcome {
    /// The outcome of a raw `kasko_outcome` value.
    pub fn from_raw(outcome: sys::kasko_outcome) -> Outcome {
        match outcome {
            sys::KASKO_OUTCOME_SUCCEEDED => Outcome::Succeeded,
            sys::KASKO_OUTCOME_NOT_SENT => Outcome::NotSent,
            sys::KASKO_OUTCOME_REJECTED => Outcome::Rejected,
            sys::KASKO_OUTCOME_UNKNOWN => Outcome::Unknown,
            other => Outcome::Other(other),
        }
    }

    /// The raw `kasko_outcome` value.
    pub fn as_raw(self) -> sys::kasko_outcome {
        match self {
            Outcome::Succeeded => sys::KASKO_OUTCOME_SUCCEEDED,
            Outcome::NotSent => sys::KASKO_OUTCOME_NOT_SENT,
            Outcome::Rejected => sys::KASKO_OUTCOME_REJECTED,
            Outcome::Unknown => sys::KASKO_OUTCOME_UNKNOWN,
            Outcome::Other(other) => other,
        }
    }

    /// The library's name for it, e.g. `"KASKO_OUTCOME_NOT_SENT"`
    /// (`"KASKO_OUTCOME_INVALID"` for a value the library does not know).
    pub fn name(self) -> &'static str {
        // SAFETY: a static NUL-terminated string (kasko.h).
        unsafe { static_str(sys::kasko_outcome_name(self.as_raw())) }
    }
}

/// The JSON type of a top-level member: `kasko_json_type` without
/// `KASKO_JSON_NONE`, which [`Answer::member_type`] gives as `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum JsonType {
    /// `null`.
    Null,
    /// `true` or `false`: [`Answer::member_bool`].
    Bool,
    /// A number: [`Answer::member_i64`], [`Answer::member_f64`].
    Number,
    /// A string: [`Answer::member_str`].
    String,
    /// An array: [`Answer::member_json`].
    Array,
    /// An object: [`Answer::member_json`].
    Object,
    /// A value newer than this crate (the raw `kasko_json_type`).
    Other(u32),
}

impl JsonType {
    /// The type of a raw `kasko_json_type`; `None` for `KASKO_JSON_NONE`.
    pub fn from_raw(json_type: sys::kasko_json_type) -> Option<JsonType> {
        Some(match json_type {
            sys::KASKO_JSON_NONE => return None,
            sys::KASKO_JSON_NULL => JsonType::Null,
            sys::KASKO_JSON_BOOL => JsonType::Bool,
            sys::KASKO_JSON_NUMBER => JsonType::Number,
            sys::KASKO_JSON_STRING => JsonType::String,
            sys::KASKO_JSON_ARRAY => JsonType::Array,
            sys::KASKO_JSON_OBJECT => JsonType::Object,
            other => JsonType::Other(other),
        })
    }
}

// ---- results -----------------------------------------------------------------

/// The result of a call: one `kasko_result`, owned, freed on drop.
///
/// It is the payment object (on success) or the library's error object, as
/// JSON text ([`json`](Answer::json)), plus typed getters that the library
/// answers: nothing here parses JSON. Every `&str` borrows from the result.
/// Results are immutable, so an `Answer` is `Send + Sync`.
pub struct Answer {
    raw: NonNull<sys::kasko_result>,
    /// The JSON, when the library's text is not UTF-8 (it always should be).
    json_lossy: Option<Box<str>>,
}

// SAFETY: kasko.h: results are immutable and "one result may be read from
// many threads at once"; nothing in one is tied to the thread that made it,
// and Drop (`&mut self`) frees it when no other thread reads it.
unsafe impl Send for Answer {}
unsafe impl Sync for Answer {}

impl Answer {
    /// Takes ownership of a `kasko_result` (`None` for NULL).
    ///
    /// # Safety
    /// `raw` is NULL or a result from libkasko that nothing else frees.
    pub unsafe fn from_raw(raw: *mut sys::kasko_result) -> Option<Answer> {
        let raw = NonNull::new(raw)?;
        let json = sys::kasko_result_json(raw.as_ptr());
        let json_lossy = if json.is_null() {
            Some(Box::from(""))
        } else {
            match CStr::from_ptr(json).to_str() {
                Ok(_) => None,
                Err(_) => Some(CStr::from_ptr(json).to_string_lossy().into()),
            }
        };
        Some(Answer { raw, json_lossy })
    }

    /// The result a call handed out through `out_result` with `status`.
    ///
    /// # Safety
    /// As for [`from_raw`](Answer::from_raw).
    unsafe fn from_call(status: sys::kasko_status, raw: *mut sys::kasko_result) -> Answer {
        match Answer::from_raw(raw) {
            Some(answer) => {
                debug_assert_eq!(
                    answer.status(),
                    status,
                    "kasko.h: the status returned equals kasko_result_status()"
                );
                answer
            }
            // kasko.h: never NULL. Should it be, say so with a result of the library's.
            None => Answer::new_error(
                sys::KASKO_ERR_INTERNAL,
                &format!("libkasko returned {} and no result", status_name(status)),
            ),
        }
    }

    /// An error result made by the library (`kasko_result_new_error`):
    /// outcome not sent, no attempts, not retryable, no HTTP status.
    fn new_error(status: sys::kasko_status, message: &str) -> Answer {
        // A C string cannot carry NUL: show where one was.
        let message = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
        let mut raw = ptr::null_mut();
        // SAFETY: a valid C string and an out pointer we own.
        let status = unsafe { sys::kasko_result_new_error(status, message.as_ptr(), &mut raw) };
        // SAFETY: the result is ours.
        unsafe { Answer::from_raw(raw) }
            .unwrap_or_else(|| panic!("kasko_result_new_error gave no result ({status})"))
    }

    /// The call's `kasko_status` ([`sys::KASKO_OK`] on success; may be newer
    /// than this crate).
    pub fn status(&self) -> u32 {
        // SAFETY: a live result.
        unsafe { sys::kasko_result_status(self.raw.as_ptr()) }
    }

    /// The status's name, e.g. `"KASKO_OK"`, `"KASKO_ERR_NOT_FOUND"`.
    pub fn code(&self) -> &'static str {
        status_name(self.status())
    }

    /// True for a successful call.
    pub fn is_ok(&self) -> bool {
        self.status() == sys::KASKO_OK
    }

    /// The payment object exactly as the API sent it, or the library's
    /// error object (`"object":"error"`), as JSON text.
    pub fn json(&self) -> &str {
        match &self.json_lossy {
            Some(json) => json,
            // SAFETY: checked to be non-NULL UTF-8 when made; owned by the result.
            None => {
                unsafe { borrowed_str(sys::kasko_result_json(self.raw.as_ptr())) }.unwrap_or("")
            }
        }
    }

    /// The HTTP status of the API's answer (also on success: 200, 201...);
    /// `None` when no response came.
    pub fn http_status(&self) -> Option<u16> {
        // SAFETY: a live result.
        let status = unsafe { sys::kasko_result_http_status(self.raw.as_ptr()) };
        u16::try_from(status).ok().filter(|&status| status != 0)
    }

    /// What the request may have done; [`Outcome::Succeeded`] on success.
    pub fn outcome(&self) -> Outcome {
        // SAFETY: a live result.
        Outcome::from_raw(unsafe { sys::kasko_result_outcome(self.raw.as_ptr()) })
    }

    /// Whether the library considers the same call worth making again.
    pub fn retryable(&self) -> bool {
        // SAFETY: a live result.
        unsafe { sys::kasko_result_retryable(self.raw.as_ptr()) != 0 }
    }

    /// The attempts made; 0 if the call was refused before any I/O.
    pub fn attempts(&self) -> u32 {
        // SAFETY: a live result.
        u32::try_from(unsafe { sys::kasko_result_attempts(self.raw.as_ptr()) }).unwrap_or(0)
    }

    /// What went wrong, in words; `None` on success.
    pub fn message(&self) -> Option<&str> {
        // SAFETY: owned by the result, valid until it is freed.
        unsafe { borrowed_str(sys::kasko_result_message(self.raw.as_ptr())) }
    }

    /// The response's `X-Request-Id` (quote it to support); `None` if none.
    pub fn request_id(&self) -> Option<&str> {
        // SAFETY: owned by the result, valid until it is freed.
        unsafe { borrowed_str(sys::kasko_result_request_id(self.raw.as_ptr())) }
    }

    /// With [`Error::PendingPayment`], the id of the policy's pending payment.
    pub fn pending_payment_id(&self) -> Option<&str> {
        // SAFETY: owned by the result, valid until it is freed.
        unsafe { borrowed_str(sys::kasko_result_pending_payment_id(self.raw.as_ptr())) }
    }

    /// The JSON type of the top-level member `name`; `None` when there is no
    /// one member of that name (absent, or present twice), or `name`
    /// contains a NUL character.
    pub fn member_type(&self, name: &str) -> Option<JsonType> {
        // SAFETY: a live result.
        unsafe { members::json_type(self.raw.as_ptr(), name) }
    }

    /// The top-level string member `name`, unescaped (a JSON `\u0000` is
    /// kept as a NUL character); `None` if there is no one string member of
    /// that name.
    pub fn member_str(&self, name: &str) -> Option<&str> {
        // SAFETY: a live result, whose memory lives as long as `&self`.
        unsafe { members::string(self.raw.as_ptr(), name) }
    }

    /// The top-level number member `name` as an `i64`: `None` unless it is
    /// one integer literal within `i64` (nothing is rounded).
    pub fn member_i64(&self, name: &str) -> Option<i64> {
        // SAFETY: a live result.
        unsafe { members::int64(self.raw.as_ptr(), name) }
    }

    /// The top-level number member `name` as the nearest `f64`; `None`
    /// unless it is one finite number.
    pub fn member_f64(&self, name: &str) -> Option<f64> {
        // SAFETY: a live result.
        unsafe { members::double(self.raw.as_ptr(), name) }
    }

    /// The top-level boolean member `name`; `None` unless it is one boolean.
    pub fn member_bool(&self, name: &str) -> Option<bool> {
        // SAFETY: a live result.
        unsafe { members::boolean(self.raw.as_ptr(), name) }
    }

    /// The value of the top-level member `name` as JSON text, whatever its
    /// type (an object such as `"_links"`, `null`, a string with its quotes).
    pub fn member_json(&self, name: &str) -> Option<&str> {
        // SAFETY: a live result, whose memory lives as long as `&self`.
        unsafe { members::json(self.raw.as_ptr(), name) }
    }

    /// The call's wall time (`kasko_result_total_time_us`, libkasko 1.2):
    /// from its start to its answer on a monotonic clock, retry waits
    /// included. Zero for a call refused before any I/O and for an error
    /// this crate made ([`Error::new`]).
    pub fn total_time(&self) -> Duration {
        // SAFETY: a live result.
        micros(unsafe { sys::kasko_result_total_time_us(self.raw.as_ptr()) })
    }

    /// The JSON text, for the calls that return it as a `String`.
    fn into_json(self) -> String {
        self.json().to_owned()
    }

    /// `Ok(self)` on success, else the [`Error`] that wraps it.
    pub fn into_result(self) -> Result<Answer, Error> {
        if self.is_ok() {
            Ok(self)
        } else {
            Err(Error::from_details(ErrorDetails {
                answer: Arc::new(self),
            }))
        }
    }

    /// The C result, still owned by this `Answer`.
    pub fn as_ptr(&self) -> *const sys::kasko_result {
        self.raw.as_ptr()
    }
}

impl Drop for Answer {
    fn drop(&mut self) {
        // SAFETY: owned, freed once (the static out-of-memory result is ignored).
        unsafe { sys::kasko_result_free(self.raw.as_ptr()) }
    }
}

impl fmt::Debug for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Answer")
            .field("code", &self.code())
            .field("json", &self.json())
            .finish()
    }
}

/// The JSON text.
impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.json())
    }
}

// ---- errors --------------------------------------------------------------------

/// What the library said about a failed call: its error result, shared
/// (cloning an error does not copy it).
#[derive(Clone)]
pub struct ErrorDetails {
    answer: Arc<Answer>,
}

impl ErrorDetails {
    /// The error result, with every getter ([`Answer::member_str`], ...).
    pub fn answer(&self) -> &Answer {
        &self.answer
    }

    /// The `kasko_status` value (may be newer than this crate; see [`Error::Internal`]).
    pub fn status(&self) -> u32 {
        self.answer.status()
    }

    /// The status's name, e.g. `"KASKO_ERR_NOT_FOUND"`.
    pub fn code(&self) -> &'static str {
        self.answer.code()
    }

    /// What went wrong, in words: the library's message.
    pub fn message(&self) -> &str {
        self.answer.message().unwrap_or_else(|| self.code())
    }

    /// The API's HTTP status; `None` when no response came.
    pub fn http_status(&self) -> Option<u16> {
        self.answer.http_status()
    }

    /// What the request may have done: [`Outcome::NotSent`],
    /// [`Outcome::Rejected`] or [`Outcome::Unknown`] (look before creating again).
    pub fn outcome(&self) -> Outcome {
        self.answer.outcome()
    }

    /// Whether the library considers the same call worth making again.
    pub fn retryable(&self) -> bool {
        self.answer.retryable()
    }

    /// The attempts made; 0 if refused before any I/O.
    pub fn attempts(&self) -> u32 {
        self.answer.attempts()
    }

    /// The response's `X-Request-Id`, if a response came with one.
    pub fn request_id(&self) -> Option<&str> {
        self.answer.request_id()
    }

    /// With [`Error::PendingPayment`], the id of the policy's pending payment.
    pub fn pending_payment_id(&self) -> Option<&str> {
        self.answer.pending_payment_id()
    }

    /// The failed call's wall time, retry waits included ([`Answer::total_time`]).
    pub fn total_time(&self) -> Duration {
        self.answer.total_time()
    }

    /// The library's error object as JSON text (`"code"`, `"outcome"`,
    /// `"retryable"`, `"request_id"`, ...).
    pub fn json(&self) -> &str {
        self.answer.json()
    }
}

/// Equal when the status and the error object are.
impl PartialEq for ErrorDetails {
    fn eq(&self, other: &ErrorDetails) -> bool {
        self.status() == other.status() && self.json() == other.json()
    }
}

impl Eq for ErrorDetails {}

impl fmt::Debug for ErrorDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorDetails")
            .field("code", &self.code())
            .field("json", &self.json())
            .finish()
    }
}

/// A failed call: one variant per `kasko_status`, each wrapping the
/// library's error result.
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
    /// `KASKO_ERR_NETWORK`: no usable answer (see [`Error::outcome`]).
    Network(ErrorDetails),
    /// `KASKO_ERR_INVALID_RESPONSE`: not the documented JSON, or too large.
    InvalidResponse(ErrorDetails),
    /// `KASKO_ERR_INTERNAL`, or a status newer than this crate.
    Internal(ErrorDetails),
    /// `KASKO_ERR_BAD_SIGNATURE`: a webhook's signature does not match its
    /// body and the secret ([`verify_webhook`], 1.3).
    BadSignature(ErrorDetails),
    /// `KASKO_ERR_CANCELLED`: an asynchronous call ended before its answer
    /// (cancelled, or its client freed with it in flight; libkasko 1.4).
    /// See [`Error::outcome`]: `Unknown` means a create may have been
    /// carried out.
    Cancelled(ErrorDetails),
}

impl Error {
    /// An error of the library's making (`kasko_result_new_error`), for a
    /// caller that refuses an argument itself: outcome [`Outcome::NotSent`],
    /// no attempts, not retryable, no HTTP status. `status` must be an
    /// error status the library knows, and `message` at most 64 KiB: else
    /// the library makes a [`Error::InvalidArgument`] saying which argument
    /// was wrong. A NUL character in `message` is written as `\0`.
    pub fn new(status: u32, message: &str) -> Error {
        match Answer::new_error(status, message).into_result() {
            Err(error) => error,
            // Not per the contract, which never makes a successful error.
            Ok(answer) => Error::Internal(ErrorDetails {
                answer: Arc::new(answer),
            }),
        }
    }

    fn from_details(details: ErrorDetails) -> Error {
        match details.status() {
            sys::KASKO_ERR_INVALID_ARGUMENT => Error::InvalidArgument(details),
            sys::KASKO_ERR_BAD_REQUEST => Error::BadRequest(details),
            sys::KASKO_ERR_UNAUTHORIZED => Error::Unauthorized(details),
            sys::KASKO_ERR_NOT_FOUND => Error::NotFound(details),
            sys::KASKO_ERR_PENDING_PAYMENT => Error::PendingPayment(details),
            sys::KASKO_ERR_RATE_LIMITED => Error::RateLimited(details),
            sys::KASKO_ERR_SERVER => Error::Server(details),
            sys::KASKO_ERR_NETWORK => Error::Network(details),
            sys::KASKO_ERR_INVALID_RESPONSE => Error::InvalidResponse(details),
            sys::KASKO_ERR_BAD_SIGNATURE => Error::BadSignature(details),
            sys::KASKO_ERR_CANCELLED => Error::Cancelled(details),
            _ => Error::Internal(details),
        }
    }

    /// The status and the error result.
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
            | Error::Internal(d)
            | Error::BadSignature(d)
            | Error::Cancelled(d) => d,
        }
    }

    /// The library's error result, with every getter.
    pub fn answer(&self) -> &Answer {
        self.details().answer()
    }

    /// The `kasko_status` value.
    pub fn status(&self) -> u32 {
        self.details().status()
    }

    /// The status's name, e.g. `"KASKO_ERR_NOT_FOUND"`.
    pub fn code(&self) -> &'static str {
        self.details().code()
    }

    /// The library's message.
    pub fn message(&self) -> &str {
        self.details().message()
    }

    /// The API's HTTP status; `None` when no response came.
    pub fn http_status(&self) -> Option<u16> {
        self.details().http_status()
    }

    /// What the request may have done (see [`Outcome`]).
    pub fn outcome(&self) -> Outcome {
        self.details().outcome()
    }

    /// Whether the library considers the same call worth making again.
    pub fn retryable(&self) -> bool {
        self.details().retryable()
    }

    /// The attempts made; 0 if refused before any I/O.
    pub fn attempts(&self) -> u32 {
        self.details().attempts()
    }

    /// The response's `X-Request-Id`, if a response came with one.
    pub fn request_id(&self) -> Option<&str> {
        self.details().request_id()
    }

    /// With [`Error::PendingPayment`], the id of the policy's pending payment.
    pub fn pending_payment_id(&self) -> Option<&str> {
        self.details().pending_payment_id()
    }

    /// The failed call's wall time, retry waits included ([`Answer::total_time`]).
    pub fn total_time(&self) -> Duration {
        self.details().total_time()
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
/// string, refuse it with an error result the library makes.
fn c_string(value: &str, what: impl FnOnce() -> String) -> Result<CString, Error> {
    CString::new(value).map_err(|_| {
        Error::new(
            sys::KASKO_ERR_INVALID_ARGUMENT,
            &format!("{} contains a NUL character", what()),
        )
    })
}

// ---- webhooks --------------------------------------------------------------------

/// Checks a webhook delivery's `X-KASKO-Signature` header
/// (`kasko_webhook_verify`, C API 1.3): `Ok(())` when `header` is `sha1=`
/// and the HMAC-SHA1 hex digest (either case) of `body` keyed with
/// `secret`, compared in constant time by libcrypto.
///
/// `body` is the raw request body, every byte as received (NUL bytes
/// included, before any JSON parsing); `secret` the webhook's secret exactly
/// as KASKO gave it (a `whsec_` prefix is part of it). Errors:
/// [`Error::BadSignature`] when it does not match (drop the delivery: answer
/// with a non-2xx status); [`Error::InvalidArgument`] for an empty secret, a
/// NUL in the secret or the header, or a header that is not exactly `sha1=`
/// and 40 hex digits. No client, no I/O; any thread. KASKO documents no
/// replay protection: de-duplicate deliveries by `X-KASKO-Delivery`.
pub fn verify_webhook(secret: &str, body: &[u8], header: &str) -> Result<(), Error> {
    let key = c_string(secret, || "the webhook secret".to_string())?;
    let signature = c_string(header, || "the X-KASKO-Signature header".to_string())?;
    // SAFETY: two NUL-terminated strings and body.len() readable bytes (a
    // dangling but non-null pointer for an empty slice, with length 0, is
    // never read); the library keeps no pointer to any of them.
    let status = unsafe {
        sys::kasko_webhook_verify(
            key.as_ptr(),
            body.as_ptr().cast::<c_char>(),
            body.len(),
            signature.as_ptr(),
        )
    };
    match status {
        sys::KASKO_OK => Ok(()),
        sys::KASKO_ERR_BAD_SIGNATURE => Err(Error::new(
            status,
            "the X-KASKO-Signature header does not match the body and the secret",
        )),
        sys::KASKO_ERR_INVALID_ARGUMENT => Err(Error::new(
            status,
            "the webhook secret is empty, or the X-KASKO-Signature header is not \"sha1=\" followed by 40 hex digits",
        )),
        _ => Err(Error::new(
            sys::KASKO_ERR_INTERNAL,
            &format!("kasko_webhook_verify returned {}", status_name(status)),
        )),
    }
}

// ---- requests and per-call options ---------------------------------------------

/// The four fields of a payment creation (`kasko_payment_create_v2`); the
/// library checks them and builds the request body.
#[derive(Clone, PartialEq, Eq)]
pub struct PaymentRequest {
    /// The offer's payment token (a credential: never shown by `Debug`).
    pub token: String,
    /// The payment provider, e.g. `"invoice"`.
    pub provider: String,
    /// The payment method, e.g. `"invoice"`.
    pub method: String,
    /// The policy to pay, `tpol_...` or `lpol_...`.
    pub policy_id: String,
}

impl PaymentRequest {
    /// A request from its four fields.
    pub fn new(
        token: impl Into<String>,
        provider: impl Into<String>,
        method: impl Into<String>,
        policy_id: impl Into<String>,
    ) -> PaymentRequest {
        PaymentRequest {
            token: token.into(),
            provider: provider.into(),
            method: method.into(),
            policy_id: policy_id.into(),
        }
    }
}

/// A [`PaymentRequest`]'s four fields as C strings, for the calls that take
/// them (`kasko_payment_create_v2`, `kasko_payment_resolve`,
/// `kasko_payment_create_async`); a field C cannot carry is refused.
pub(crate) struct PaymentFields {
    pub(crate) token: CString,
    pub(crate) provider: CString,
    pub(crate) method: CString,
    pub(crate) policy_id: CString,
}

impl PaymentFields {
    pub(crate) fn of(request: &PaymentRequest) -> Result<PaymentFields, Error> {
        let field = |value: &str, name: &str| {
            c_string(value, || format!("payment request field \"{name}\""))
        };
        Ok(PaymentFields {
            token: field(&request.token, "token")?,
            provider: field(&request.provider, "provider")?,
            method: field(&request.method, "method")?,
            policy_id: field(&request.policy_id, "policy_id")?,
        })
    }
}

impl fmt::Debug for PaymentRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaymentRequest")
            .field("token", &"[redacted]")
            .field("provider", &self.provider)
            .field("method", &self.method)
            .field("policy_id", &self.policy_id)
            .finish()
    }
}

/// An option [`CallOptions`] refused itself (a value C cannot carry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OptionName {
    Handle,
    Traceparent,
    Tracestate,
}

/// Options for one call (`kasko_call_options`): its own time limit and the
/// W3C Trace Context headers, sent on every attempt.
///
/// A builder: each method takes and returns the options. Values are checked
/// by the library; an invalid one is not an error here but is remembered,
/// and any call made with these options fails with
/// [`Error::InvalidArgument`], outcome [`Outcome::NotSent`] and the
/// library's message saying what is wrong, until that option is set again
/// to a valid value. To hear of it early, end the builder with
/// [`checked`](CallOptions::checked) (or call [`check`](CallOptions::check)):
/// the same error, before any call:
///
/// ```no_run
/// # use kasko::CallOptions;
/// let options = CallOptions::new().traceparent("bogus").checked();
/// assert!(options.unwrap_err().message().starts_with("call option traceparent"));
/// ```
///
/// `CallOptions::new()` allocates nothing and stands for the client's
/// defaults. One `CallOptions` may serve many concurrent calls.
pub struct CallOptions {
    /// Made on the first setter.
    handle: Option<NonNull<sys::kasko_call_options>>,
    /// Values refused here (a NUL character), with the message for the call.
    refused: Vec<(OptionName, String)>,
}

// SAFETY: kasko.h: options are only read during a call (copied), and "one
// options object may be used by many concurrent calls as long as nobody
// modifies it meanwhile": calls take `&self`, setters own `self`.
unsafe impl Send for CallOptions {}
unsafe impl Sync for CallOptions {}

impl Default for CallOptions {
    fn default() -> CallOptions {
        CallOptions::new()
    }
}

impl CallOptions {
    /// No options: the client's defaults.
    pub const fn new() -> CallOptions {
        CallOptions {
            handle: None,
            refused: Vec::new(),
        }
    }

    /// Calls `set` on the C options, made first if need be.
    fn set(mut self, set: impl FnOnce(*mut sys::kasko_call_options)) -> CallOptions {
        if self.handle.is_none() {
            // SAFETY: no arguments; the options are ours, freed on drop.
            self.handle = NonNull::new(unsafe { sys::kasko_call_options_new() });
            if self.handle.is_none() {
                self.refuse(
                    OptionName::Handle,
                    "out of memory (kasko_call_options_new)".into(),
                );
                return self;
            }
        }
        if let Some(handle) = self.handle {
            set(handle.as_ptr());
        }
        self
    }

    fn refuse(&mut self, option: OptionName, message: String) {
        self.accept(option);
        self.refused.push((option, message));
    }

    fn accept(&mut self, option: OptionName) {
        self.refused.retain(|(name, _)| *name != option);
    }

    /// The time limit of each attempt of the call, instead of the client's
    /// `timeout_ms`. Rounded up to whole milliseconds; `Duration::ZERO`
    /// means the client's (as 0 does in C); beyond the library's maximum
    /// it is refused by the call, with the library's message.
    pub fn timeout(self, timeout: Duration) -> CallOptions {
        let millis = milliseconds(timeout);
        // SAFETY (in `set`): live options. An invalid value's status is not
        // needed: the library remembers it and the call reports it.
        self.set(|options| unsafe {
            let _ = sys::kasko_call_options_set_timeout_ms(options, millis);
        })
    }

    /// The client's timeout again.
    pub fn client_timeout(self) -> CallOptions {
        self.timeout(Duration::ZERO)
    }

    /// The `traceparent` header, e.g.
    /// `"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"`.
    pub fn traceparent(self, traceparent: &str) -> CallOptions {
        self.trace_header(OptionName::Traceparent, Some(traceparent))
    }

    /// No `traceparent` header.
    pub fn clear_traceparent(self) -> CallOptions {
        self.trace_header(OptionName::Traceparent, None)
    }

    /// The `tracestate` header, e.g. `"vendor=value"`.
    pub fn tracestate(self, tracestate: &str) -> CallOptions {
        self.trace_header(OptionName::Tracestate, Some(tracestate))
    }

    /// No `tracestate` header.
    pub fn clear_tracestate(self) -> CallOptions {
        self.trace_header(OptionName::Tracestate, None)
    }

    fn trace_header(mut self, option: OptionName, value: Option<&str>) -> CallOptions {
        let (setter, name): (unsafe extern "C" fn(_, _) -> _, _) = match option {
            OptionName::Traceparent => (sys::kasko_call_options_set_traceparent, "traceparent"),
            _ => (sys::kasko_call_options_set_tracestate, "tracestate"),
        };
        let value = match value.map(CString::new) {
            Some(Err(_)) => {
                self.refuse(
                    option,
                    format!("call option {name} contains a NUL character"),
                );
                return self;
            }
            Some(Ok(value)) => Some(value),
            None => None,
        };
        self.accept(option);
        let value_ptr = value.as_ref().map_or(ptr::null(), |value| value.as_ptr());
        // SAFETY (in `set`): live options and a valid C string or NULL. The
        // status is not needed: the library remembers an invalid value.
        self.set(|options| unsafe {
            let _ = setter(options, value_ptr);
        })
    }

    /// The C options for a call: NULL for the client's defaults, or the
    /// error of a value refused here.
    fn for_call(&self) -> Result<*const sys::kasko_call_options, Error> {
        if let Some((option, message)) = self.refused.first() {
            let status = match option {
                OptionName::Handle => sys::KASKO_ERR_INTERNAL,
                _ => sys::KASKO_ERR_INVALID_ARGUMENT,
            };
            return Err(Error::new(status, message));
        }
        Ok(self
            .handle
            .map_or(ptr::null(), |handle| handle.as_ptr().cast_const()))
    }

    /// What a call made with these options would refuse, without making
    /// one: `Ok(())`, or that call's [`Error::InvalidArgument`] (outcome
    /// [`Outcome::NotSent`], the library's message naming the option) — a
    /// value C cannot carry, refused here, or a value the library refused
    /// (`kasko_call_options_check`).
    pub fn check(&self) -> Result<(), Error> {
        let options = self.for_call()?;
        if options.is_null() {
            return Ok(()); // the client's defaults: nothing to refuse
        }
        let mut out = ptr::null_mut();
        // SAFETY: live options owned by `self` (no setter can run meanwhile:
        // they take `self`), an out pointer we own.
        let status = unsafe { sys::kasko_call_options_check(options, &mut out) };
        if status == sys::KASKO_OK {
            // SAFETY: NULL per the contract; if not, ours to free.
            drop(unsafe { Answer::from_raw(out) });
            return Ok(());
        }
        // SAFETY: the result is ours.
        match unsafe { Answer::from_call(status, out) }.into_result() {
            Err(error) => Err(error),
            // Not per the contract: a refusal with a successful result.
            Ok(_) => Err(Error::new(
                sys::KASKO_ERR_INTERNAL,
                "kasko_call_options_check refused the options with a successful result",
            )),
        }
    }

    /// These options, or the error a call made with them would return
    /// ([`check`](CallOptions::check)): the end of a builder chain that
    /// wants to hear of a bad value at once, e.g. with `?`.
    pub fn checked(self) -> Result<CallOptions, Error> {
        self.check().map(|()| self)
    }

    /// The C options (NULL until an option is set), still owned by these.
    pub fn as_ptr(&self) -> *const sys::kasko_call_options {
        self.handle
            .map_or(ptr::null(), |handle| handle.as_ptr().cast_const())
    }
}

impl Drop for CallOptions {
    fn drop(&mut self) {
        if let Some(handle) = self.handle {
            // SAFETY: owned, and `&mut self` means no call is reading them.
            unsafe { sys::kasko_call_options_free(handle.as_ptr()) }
        }
    }
}

impl fmt::Debug for CallOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallOptions").finish_non_exhaustive()
    }
}

/// A duration as the C API's milliseconds: rounded up (a positive duration
/// is never 0), and one beyond `c_long` clamped to its maximum, so that it
/// stays out of the library's range and is refused with its message.
fn milliseconds(duration: Duration) -> c_long {
    c_long::try_from(duration.as_nanos().div_ceil(1_000_000)).unwrap_or(c_long::MAX)
}

/// The keys of a client's configuration, as `kasko_config_set_string` and
/// `kasko_config_set_int` name them (and as the JSON configuration does):
/// the one place [`Config`] takes them from.
pub mod config_key {
    /// A string: `pk_test_...` or `pk_live_...`.
    pub const PUBLIC_KEY: &str = "public_key";
    /// A string: `sk_test_...` or `sk_live_...`.
    pub const SECRET_KEY: &str = "secret_key";
    /// A string: the API's URL.
    pub const BASE_URL: &str = "base_url";
    /// A number: milliseconds per attempt.
    pub const TIMEOUT_MS: &str = "timeout_ms";
    /// A number: milliseconds to connect.
    pub const CONNECT_TIMEOUT_MS: &str = "connect_timeout_ms";
    /// A number: retries after the first attempt.
    pub const MAX_RETRIES: &str = "max_retries";
    /// A string: a PEM file of trusted CAs.
    pub const CA_BUNDLE: &str = "ca_bundle";
    /// A string: a proxy URL, `""` for none.
    pub const PROXY: &str = "proxy";
    /// A string: put before the library's own User-Agent.
    pub const USER_AGENT: &str = "user_agent";
    /// Every key, in the order of `kasko.h`.
    pub const ALL: [&str; 9] = [
        PUBLIC_KEY,
        SECRET_KEY,
        BASE_URL,
        TIMEOUT_MS,
        CONNECT_TIMEOUT_MS,
        MAX_RETRIES,
        CA_BUNDLE,
        PROXY,
        USER_AGENT,
    ];
}

/// Overwrites a C string's bytes before it is freed (it may have held a key).
fn wipe(text: CString) {
    let mut bytes = text.into_bytes_with_nul();
    for byte in bytes.iter_mut() {
        // SAFETY: a valid, exclusive reference; volatile so the write stays.
        unsafe { ptr::write_volatile(byte, 0) };
    }
}

/// A client's configuration (`kasko_config`), set key by key and given to
/// [`Client::from_config`]: the library copies and escapes every value, so
/// nothing writes JSON, and the secret key is held by the library's
/// configuration only (this crate keeps no copy, and `Debug` shows only
/// which keys are set).
///
/// A builder: each method takes and returns the configuration.
///
/// ```no_run
/// use kasko::{Client, Config};
/// use std::time::Duration;
///
/// let config = Config::new()
///     .public_key("pk_test_...")
///     .secret_key("sk_test_...")
///     .timeout(Duration::from_secs(30))
///     .max_retries(1);
/// let client = Client::from_config(&config)?;
/// # Ok::<(), kasko::Error>(())
/// ```
///
/// Values are checked by the library when the client is made, with the
/// keys, defaults, checks and messages of the JSON configuration
/// (`kasko_client_new`): a refused one makes [`Client::from_config`] return
/// [`Error::InvalidArgument`] with the library's message, which names the
/// key and never quotes a key. A value C cannot carry (a NUL character) is
/// refused the same way, until that key is set again. One `Config` may make
/// many clients, also from many threads at once, and may be dropped before
/// them.
pub struct Config {
    /// `None` only if memory ran out.
    handle: Option<NonNull<sys::kasko_config>>,
    /// Values refused here (a NUL character), with the message for the client.
    refused: Vec<(&'static str, String)>,
    /// The keys set, for `Debug`.
    keys: Vec<&'static str>,
}

// SAFETY: kasko.h: "one thread at a time while it is being set; many
// threads may make clients from it at once afterwards": the setters take
// `self`, `Client::from_config` only `&Config`; nothing is tied to a thread.
unsafe impl Send for Config {}
unsafe impl Sync for Config {}

impl Default for Config {
    fn default() -> Config {
        Config::new()
    }
}

impl Config {
    /// An empty configuration: every key at its default (a public key is
    /// required).
    pub fn new() -> Config {
        // SAFETY: no arguments; the configuration is ours, freed on drop.
        let handle = NonNull::new(unsafe { sys::kasko_config_new() });
        Config {
            handle,
            refused: Vec::new(),
            keys: Vec::new(),
        }
    }

    fn mark(&mut self, key: &'static str) {
        self.refused.retain(|(name, _)| *name != key);
        if !self.keys.contains(&key) {
            self.keys.push(key);
        }
    }

    fn set_bytes(mut self, key: &'static str, value: &[u8]) -> Config {
        self.mark(key);
        let Some(handle) = self.handle else {
            return self;
        };
        let name = CString::new(key).unwrap_or_default();
        let (value, refused) = match CString::new(value) {
            Ok(value) => (Some(value), false),
            Err(_) => (None, true),
        };
        // SAFETY: live configuration, valid C strings or NULL (which removes
        // the key, so that a refused value leaves no earlier one behind). The
        // status is not needed: the library remembers a refused value and
        // the client made from it reports it.
        unsafe {
            let _ = sys::kasko_config_set_string(
                handle.as_ptr(),
                name.as_ptr(),
                value.as_ref().map_or(ptr::null(), |value| value.as_ptr()),
            );
        }
        if let Some(value) = value {
            wipe(value);
        }
        if refused {
            self.refused.push((
                key,
                format!("configuration key \"{key}\" contains a NUL character"),
            ));
        }
        self
    }

    fn set_string(self, key: &'static str, value: &str) -> Config {
        self.set_bytes(key, value.as_bytes())
    }

    fn set_int(mut self, key: &'static str, value: c_long) -> Config {
        self.mark(key);
        if let Some(handle) = self.handle {
            let name = CString::new(key).unwrap_or_default();
            // SAFETY: live configuration, a valid C string. The status is not
            // needed (see `set_bytes`).
            unsafe {
                let _ = sys::kasko_config_set_int(handle.as_ptr(), name.as_ptr(), value);
            }
        }
        self
    }

    /// `"public_key"`: `pk_test_...` or `pk_live_...` (required).
    pub fn public_key(self, key: &str) -> Config {
        self.set_string(config_key::PUBLIC_KEY, key)
    }

    /// `"secret_key"`: `sk_test_...` or `sk_live_...`, of the public key's
    /// mode. Without it, created payments are the restricted object and
    /// views are refused by the API.
    pub fn secret_key(self, key: &str) -> Config {
        self.set_string(config_key::SECRET_KEY, key)
    }

    /// `"base_url"`: default `https://api.eu1.kaskocloud.com`; plain
    /// `http://` only for loopback hosts.
    pub fn base_url(self, url: &str) -> Config {
        self.set_string(config_key::BASE_URL, url)
    }

    /// `"timeout_ms"`: the total time of each attempt (default 60 s), in
    /// whole milliseconds rounded up; the library accepts 1 ms to 1 h.
    pub fn timeout(self, timeout: Duration) -> Config {
        self.set_int(config_key::TIMEOUT_MS, milliseconds(timeout))
    }

    /// `"connect_timeout_ms"`: the time to connect (default 10 s), in whole
    /// milliseconds rounded up; the library accepts 1 ms to 1 h.
    pub fn connect_timeout(self, timeout: Duration) -> Config {
        self.set_int(config_key::CONNECT_TIMEOUT_MS, milliseconds(timeout))
    }

    /// `"max_retries"`: retries after the first attempt (default 2, 0 to 10).
    #[allow(clippy::unnecessary_fallible_conversions)] // c_long is 32 bits on some targets
    pub fn max_retries(self, retries: u32) -> Config {
        self.set_int(
            config_key::MAX_RETRIES,
            c_long::try_from(retries).unwrap_or(c_long::MAX),
        )
    }

    /// `"ca_bundle"`: a PEM file of trusted CAs, checked when the client is made.
    pub fn ca_bundle(self, path: impl AsRef<std::path::Path>) -> Config {
        let path = path.as_ref().as_os_str();
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            // The bytes as they are: the library refuses a path that is not UTF-8.
            self.set_bytes(config_key::CA_BUNDLE, path.as_bytes())
        }
        #[cfg(not(unix))]
        {
            self.set_string(config_key::CA_BUNDLE, &path.to_string_lossy())
        }
    }

    /// `"proxy"`: a proxy URL, or `""` for none. Unset: the `https_proxy` /
    /// `no_proxy` environment, as for curl.
    pub fn proxy(self, url: &str) -> Config {
        self.set_string(config_key::PROXY, url)
    }

    /// `"user_agent"`: put before the library's own User-Agent.
    pub fn user_agent(self, agent: &str) -> Config {
        self.set_string(config_key::USER_AGENT, agent)
    }

    /// The error [`Client::from_config`] gives before asking the library.
    fn refusal(&self) -> Option<Error> {
        if self.handle.is_none() {
            return Some(Error::new(
                sys::KASKO_ERR_INTERNAL,
                "out of memory (kasko_config_new)",
            ));
        }
        self.refused
            .first()
            .map(|(_, message)| Error::new(sys::KASKO_ERR_INVALID_ARGUMENT, message))
    }

    /// The C configuration, still owned by this `Config` (NULL only if
    /// memory ran out).
    pub fn as_ptr(&self) -> *const sys::kasko_config {
        self.handle
            .map_or(ptr::null(), |handle| handle.as_ptr().cast_const())
    }
}

impl Drop for Config {
    fn drop(&mut self) {
        if let Some(handle) = self.handle {
            // SAFETY: owned, and `&mut self` means no client is being made from it.
            unsafe { sys::kasko_config_free(handle.as_ptr()) }
        }
    }
}

/// The names of the keys set, never their values.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

// ---- the event hook (libkasko 1.2) --------------------------------------------------

/// What an [`Event`] reports (its `"event"` member).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// `"attempt"`: one HTTP attempt ended.
    Attempt,
    /// `"call_end"`: the call ended (after its last attempt, or refused before any).
    CallEnd,
    /// A kind newer than this crate.
    Other,
}

/// One event of a client's calls, as an event hook sees it
/// ([`Client::set_event_hook`], libkasko 1.2): the library's event result,
/// borrowed for the duration of the hook.
///
/// Its lifetime `'a` is the hook's call: an `Event`, and every `&str` read
/// from it, cannot be kept beyond it (copy what you keep: `.to_owned()`,
/// or [`json`](Event::json) as one log line). It is neither `Send` nor
/// `Sync`. No event holds the secret key, the public key, a payment token
/// or a body.
///
/// ```no_run
/// use std::sync::{Arc, Mutex};
/// # fn main() -> Result<(), kasko::Error> {
/// # let client = kasko::Client::new("{}")?;
/// let lines = Arc::new(Mutex::new(Vec::<String>::new()));
/// let kept = Arc::clone(&lines);
/// client.set_event_hook(Some(Box::new(move |event| {
///     kept.lock().unwrap().push(event.json().to_owned()); // a copy
/// })))?;
/// # Ok(())
/// # }
/// ```
///
/// What is read from an event cannot be kept without copying it:
///
/// ```compile_fail
/// use std::sync::{Arc, Mutex};
/// # fn main() -> Result<(), kasko::Error> {
/// # let client = kasko::Client::new("{}")?;
/// let lines = Arc::new(Mutex::new(Vec::<&'static str>::new()));
/// let kept = Arc::clone(&lines);
/// client.set_event_hook(Some(Box::new(move |event| {
///     kept.lock().unwrap().push(event.json()); // borrowed from the event: refused
/// })))?;
/// # Ok(())
/// # }
/// ```
pub struct Event<'a> {
    raw: NonNull<sys::kasko_result>,
    _borrow: PhantomData<&'a sys::kasko_result>,
}

impl<'a> Event<'a> {
    /// Borrows an event the library handed a hook.
    ///
    /// # Safety
    /// `raw` is a live result that stays valid, unchanged, for `'a`.
    pub unsafe fn from_raw(raw: NonNull<sys::kasko_result>) -> Event<'a> {
        Event {
            raw,
            _borrow: PhantomData,
        }
    }

    fn ptr(&self) -> *const sys::kasko_result {
        self.raw.as_ptr()
    }

    fn text(&self, name: &str) -> &'a str {
        // SAFETY: the event lives for 'a.
        unsafe { members::string(self.ptr(), name) }.unwrap_or("")
    }

    fn micros(&self, name: &str) -> Option<Duration> {
        // SAFETY: the event lives for 'a.
        unsafe { members::int64(self.ptr(), name) }.map(micros)
    }

    /// [`EventKind::Attempt`] or [`EventKind::CallEnd`].
    pub fn kind(&self) -> EventKind {
        match self.text("event") {
            "attempt" => EventKind::Attempt,
            "call_end" => EventKind::CallEnd,
            _ => EventKind::Other,
        }
    }

    /// `"payment_create"` or `"payment_get"`.
    pub fn operation(&self) -> &'a str {
        self.text("operation")
    }

    /// The HTTP method: `"POST"`, `"GET"`.
    pub fn method(&self) -> &'a str {
        self.text("method")
    }

    /// The route template, for metrics: `"/payments"` or `"/payments/{id}"`.
    pub fn route(&self) -> &'a str {
        self.text("route")
    }

    /// The base URL's path with the route filled in (never the query).
    pub fn path(&self) -> &'a str {
        self.text("path")
    }

    /// The attempt's number (from 1); for [`EventKind::CallEnd`] the
    /// attempts made (0 for a call refused before any I/O).
    pub fn attempt(&self) -> u32 {
        // SAFETY: a live result.
        u32::try_from(unsafe { sys::kasko_result_attempts(self.ptr()) }).unwrap_or(0)
    }

    /// The answer's HTTP status; `None` without one.
    pub fn http_status(&self) -> Option<u16> {
        // SAFETY: a live result.
        let status = unsafe { sys::kasko_result_http_status(self.ptr()) };
        u16::try_from(status).ok().filter(|&status| status != 0)
    }

    /// The attempt's (or call's) `kasko_status`, [`sys::KASKO_OK`] for a success.
    pub fn status(&self) -> u32 {
        // SAFETY: a live result.
        unsafe { sys::kasko_result_status(self.ptr()) }
    }

    /// The status's name, e.g. `"KASKO_ERR_SERVER"`.
    pub fn code(&self) -> &'static str {
        status_name(self.status())
    }

    /// What the attempt (or call) may have done.
    pub fn outcome(&self) -> Outcome {
        // SAFETY: a live result.
        Outcome::from_raw(unsafe { sys::kasko_result_outcome(self.ptr()) })
    }

    /// Whether another attempt follows this one.
    pub fn retry(&self) -> bool {
        // SAFETY: the event lives for 'a.
        unsafe { members::boolean(self.ptr(), "retry") }.unwrap_or(false)
    }

    /// The wait before the next attempt; `None` unless [`retry`](Event::retry).
    pub fn retry_delay(&self) -> Option<Duration> {
        // SAFETY: the event lives for 'a.
        unsafe { members::int64(self.ptr(), "retry_delay_ms") }
            .map(|ms| Duration::from_millis(u64::try_from(ms).unwrap_or(0)))
    }

    /// The response's `X-Request-Id`; `None` if none.
    pub fn request_id(&self) -> Option<&'a str> {
        // SAFETY: owned by the event, valid for 'a.
        unsafe { borrowed_str(sys::kasko_result_request_id(self.ptr())) }
    }

    /// Bytes sent (headers and bodies); for a call end the sum over its attempts.
    pub fn bytes_sent(&self) -> u64 {
        // SAFETY: the event lives for 'a.
        unsafe { members::int64(self.ptr(), "bytes_sent") }.map_or(0, |n| u64::try_from(n).unwrap_or(0))
    }

    /// Bytes received (headers and bodies); for a call end the sum over its attempts.
    pub fn bytes_received(&self) -> u64 {
        // SAFETY: the event lives for 'a.
        unsafe { members::int64(self.ptr(), "bytes_received") }.map_or(0, |n| u64::try_from(n).unwrap_or(0))
    }

    /// Name resolution done, from the attempt's start (zero if it did not
    /// happen); `None` for a call end. So are the three below.
    pub fn dns(&self) -> Option<Duration> {
        self.micros("dns_us")
    }

    /// Connected.
    pub fn connect(&self) -> Option<Duration> {
        self.micros("connect_us")
    }

    /// TLS handshake done (zero over plain http).
    pub fn tls(&self) -> Option<Duration> {
        self.micros("tls_us")
    }

    /// The answer's first byte.
    pub fn first_byte(&self) -> Option<Duration> {
        self.micros("first_byte_us")
    }

    /// The attempt's time; for a call end the call's wall time, as
    /// [`Answer::total_time`] gives it.
    pub fn total(&self) -> Duration {
        self.micros("total_us").unwrap_or_default()
    }

    /// What went wrong; `None` on success.
    pub fn message(&self) -> Option<&'a str> {
        // SAFETY: owned by the event, valid for 'a.
        unsafe { borrowed_str(sys::kasko_result_message(self.ptr())) }
    }

    /// The whole event as JSON text: one log line.
    pub fn json(&self) -> &'a str {
        // SAFETY: owned by the event, valid for 'a (the library writes UTF-8).
        unsafe { borrowed_str(sys::kasko_result_json(self.ptr())) }.unwrap_or("")
    }

    /// The JSON type of the top-level member `name` (as [`Answer::member_type`]).
    pub fn member_type(&self, name: &str) -> Option<JsonType> {
        // SAFETY: the event lives for 'a.
        unsafe { members::json_type(self.ptr(), name) }
    }

    /// A top-level string member (as [`Answer::member_str`]).
    pub fn member_str(&self, name: &str) -> Option<&'a str> {
        // SAFETY: the event lives for 'a.
        unsafe { members::string(self.ptr(), name) }
    }

    /// A top-level integer member (as [`Answer::member_i64`]).
    pub fn member_i64(&self, name: &str) -> Option<i64> {
        // SAFETY: the event lives for 'a.
        unsafe { members::int64(self.ptr(), name) }
    }

    /// A top-level number member (as [`Answer::member_f64`]).
    pub fn member_f64(&self, name: &str) -> Option<f64> {
        // SAFETY: the event lives for 'a.
        unsafe { members::double(self.ptr(), name) }
    }

    /// A top-level boolean member (as [`Answer::member_bool`]).
    pub fn member_bool(&self, name: &str) -> Option<bool> {
        // SAFETY: the event lives for 'a.
        unsafe { members::boolean(self.ptr(), name) }
    }

    /// Any top-level member as JSON text (as [`Answer::member_json`]).
    pub fn member_json(&self, name: &str) -> Option<&'a str> {
        // SAFETY: the event lives for 'a.
        unsafe { members::json(self.ptr(), name) }
    }

    /// The borrowed C event: valid only during the hook; never free it.
    pub fn as_ptr(&self) -> *const sys::kasko_result {
        self.ptr()
    }
}

impl fmt::Debug for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event").field("json", &self.json()).finish()
    }
}

/// The JSON text.
impl fmt::Display for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.json())
    }
}

/// An event hook, for [`Client::set_event_hook`]: called with each event of
/// the client's calls, on the thread making the call, from many threads at
/// once (so `Sync`), and dropped on whichever thread replaces it (so `Send`).
pub type EventHook = Box<dyn Fn(&Event<'_>) + Send + Sync + 'static>;

/// What the library holds as a hook's user data.
struct HookState {
    hook: EventHook,
    /// The client's count of the panics its hooks caught.
    panics: Arc<AtomicU64>,
}

thread_local! {
    /// How deep this thread is inside this crate's event hooks.
    static HOOK_DEPTH: Cell<u32> = const { Cell::new(0) };
}

/// Marks this thread as inside a hook until dropped.
struct InsideHook;

impl InsideHook {
    fn enter() -> InsideHook {
        let _ = HOOK_DEPTH.try_with(|depth| depth.set(depth.get() + 1));
        InsideHook
    }

    fn now() -> bool {
        HOOK_DEPTH.try_with(|depth| depth.get() > 0).unwrap_or(false)
    }
}

impl Drop for InsideHook {
    fn drop(&mut self) {
        let _ = HOOK_DEPTH.try_with(|depth| depth.set(depth.get().saturating_sub(1)));
    }
}

/// The `kasko_event_hook` of every [`Client`]: calls the boxed closure and
/// never lets a panic unwind into the library (that would be undefined
/// behaviour; Rust would abort the process).
unsafe extern "C" fn deliver_event(event: *const sys::kasko_result, user_data: *mut c_void) {
    // SAFETY: the user data is the HookState the client installed, which it
    // frees only once kasko_client_set_event_hook has replaced it and returned.
    let (Some(state), Some(raw)) = (
        unsafe { user_data.cast::<HookState>().as_ref() },
        NonNull::new(event.cast_mut()),
    ) else {
        return;
    };
    let _inside = InsideHook::enter();
    // SAFETY: the event is valid until this function returns, and `event`
    // does not outlive it.
    let event = unsafe { Event::from_raw(raw) };
    if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| (state.hook)(&event))) {
        state.panics.fetch_add(1, Ordering::Relaxed);
        // Dropping the payload runs its code too: never let that unwind either.
        if let Err(again) = panic::catch_unwind(AssertUnwindSafe(move || drop(payload))) {
            std::mem::forget(again);
        }
    }
}

// ---- the client -------------------------------------------------------------------

/// A client of the KASKO Payments API, owning one `kasko_client`.
///
/// One `Client` may be shared between threads (`&Client` is enough to call
/// it; wrap it in an `Arc` or use scoped threads). Dropping it frees the handle.
pub struct Client {
    handle: NonNull<sys::kasko_client>,
    /// The installed event hook, freed only after the library let go of it
    /// (and dropped after `kasko_client_free` in Drop). The mutex orders the
    /// setters, so the one replaced is always the one the library held.
    hook: Mutex<Option<Box<HookState>>>,
    /// Panics caught in this client's event hooks.
    hook_panics: Arc<AtomicU64>,
    /// The handle as this client's [`CallFuture`]s see it, to cancel their
    /// calls while the client lives (they do not keep it alive).
    live: Arc<Liveness>,
}

// SAFETY: kasko.h: "One client may be used from many threads at once", and
// kasko_client_free may run on any thread once no other uses the client,
// which Drop's `&mut self` guarantees.
unsafe impl Send for Client {}
unsafe impl Sync for Client {}

impl Client {
    /// Creates a client from the C API's JSON configuration (`"public_key"`,
    /// `"secret_key"`, `"base_url"`, `"timeout_ms"`, ...; see
    /// `kasko_client_new_v2`). A bad configuration is
    /// [`Error::InvalidArgument`], made from the library's result like the
    /// error of any call: its [`message`](Error::message) is the library's
    /// reason (it names the key, never quotes one), its
    /// [`json`](Error::json) the library's error object.
    pub fn new(config_json: &str) -> Result<Client, Error> {
        let config = c_string(config_json, || "config_json".into())?;
        let mut handle = ptr::null_mut();
        let mut refusal = ptr::null_mut();
        // SAFETY: a valid C string and out pointers we own; what they
        // receive is owned here.
        let status =
            unsafe { sys::kasko_client_new_v2(config.as_ptr(), &mut handle, &mut refusal) };
        // SAFETY: as the C API hands them out.
        unsafe { Client::adopt(status, handle, refusal, "kasko_client_new_v2") }
    }

    /// Creates a client from a [`Config`] (`kasko_client_new_from_config`):
    /// the checks and messages of the JSON configuration. A refused key or
    /// value is [`Error::InvalidArgument`], made from the library's result:
    /// its [`message`](Error::message) is the library's reason (it names
    /// the key, never quotes a key), its [`json`](Error::json) the
    /// library's error object. The `Config` may be dropped or reused after.
    pub fn from_config(config: &Config) -> Result<Client, Error> {
        if let Some(error) = config.refusal() {
            return Err(error);
        }
        let mut handle = ptr::null_mut();
        let mut refusal = ptr::null_mut();
        // SAFETY: a live configuration (only read), out pointers we own.
        let status = unsafe {
            sys::kasko_client_new_from_config(config.as_ptr(), &mut handle, &mut refusal)
        };
        // SAFETY: as the C API hands them out.
        unsafe { Client::adopt(status, handle, refusal, "kasko_client_new_from_config") }
    }

    /// The client a constructor made, or the error of its refusal.
    ///
    /// # Safety
    /// `handle` and `refusal` are what the constructor handed out, owned here.
    unsafe fn adopt(
        status: sys::kasko_status,
        handle: *mut sys::kasko_client,
        refusal: *mut sys::kasko_result,
        made_by: &str,
    ) -> Result<Client, Error> {
        // The result is ours (NULL on success, freed on drop if not).
        let refusal = Answer::from_raw(refusal);
        match (status, NonNull::new(handle)) {
            (sys::KASKO_OK, Some(handle)) => Ok(Client {
                handle,
                hook: Mutex::new(None),
                hook_panics: Arc::new(AtomicU64::new(0)),
                live: Arc::new(Liveness::new(handle)),
            }),
            (status, handle) => {
                if let Some(handle) = handle {
                    // Not per the contract, but never leak a handle: owned
                    // by us and not used again.
                    sys::kasko_client_free(handle.as_ptr())
                }
                Err(match (status, refusal.map(Answer::into_result)) {
                    (_, Some(Err(error))) if status != sys::KASKO_OK => error,
                    (sys::KASKO_OK, _) => Error::new(
                        sys::KASKO_ERR_INTERNAL,
                        &format!("{made_by} returned KASKO_OK but no client"),
                    ),
                    (status, _) => Error::new(
                        sys::KASKO_ERR_INTERNAL,
                        &format!(
                            "{made_by} returned {} and no error result",
                            status_name(status)
                        ),
                    ),
                })
            }
        }
    }

    /// Creates a payment and returns the payment object as the API sent it
    /// (JSON text). [`create_payment_with`](Client::create_payment_with)
    /// takes options and returns the typed [`Answer`].
    pub fn create_payment(&self, request: &PaymentRequest) -> Result<String, Error> {
        self.create_payment_with(request, &CallOptions::new())
            .map(Answer::into_json)
    }

    /// Creates a payment (`kasko_payment_create_v2`) with per-call options.
    /// It is sent at most once; on [`Outcome::Unknown`] the payment may
    /// exist: view it before creating it again.
    pub fn create_payment_with(
        &self,
        request: &PaymentRequest,
        options: &CallOptions,
    ) -> Result<Answer, Error> {
        let fields = PaymentFields::of(request)?;
        let options = options.for_call()?;
        let mut out = ptr::null_mut();
        // SAFETY: a live handle, valid C strings, live options or NULL, an
        // out pointer we own.
        let status = unsafe {
            sys::kasko_payment_create_v2(
                self.handle.as_ptr(),
                fields.token.as_ptr(),
                fields.provider.as_ptr(),
                fields.method.as_ptr(),
                fields.policy_id.as_ptr(),
                options,
                &mut out,
            )
        };
        // SAFETY: the result is ours.
        unsafe { Answer::from_call(status, out) }.into_result()
    }

    /// Views a payment and returns the payment object as the API sent it
    /// (JSON text). [`get_payment_with`](Client::get_payment_with) takes
    /// options and returns the typed [`Answer`].
    pub fn get_payment(&self, payment_id: &str) -> Result<String, Error> {
        self.get_payment_with(payment_id, &CallOptions::new())
            .map(Answer::into_json)
    }

    /// Views a payment (`kasko_payment_get_v2`) with per-call options.
    pub fn get_payment_with(
        &self,
        payment_id: &str,
        options: &CallOptions,
    ) -> Result<Answer, Error> {
        let id = c_string(payment_id, || "payment_id".into())?;
        let options = options.for_call()?;
        let mut out = ptr::null_mut();
        // SAFETY: a live handle, a valid C string, live options or NULL, an
        // out pointer we own.
        let status = unsafe {
            sys::kasko_payment_get_v2(self.handle.as_ptr(), id.as_ptr(), options, &mut out)
        };
        // SAFETY: the result is ours.
        unsafe { Answer::from_call(status, out) }.into_result()
    }

    /// Sets the client's event hook (`kasko_client_set_event_hook`,
    /// libkasko 1.2), replacing the one before; `None` clears it.
    ///
    /// The hook is called with each [`Event`] of this client's calls: one
    /// per HTTP attempt and one when the call ends, on the thread making
    /// the call (for an asynchronous call, the client's engine thread), so
    /// from many threads at once when the client is shared (hence
    /// `Send + Sync`). It may log, count, block (that delays only its
    /// own call; on the engine thread, all of the client's asynchronous
    /// calls) and make library calls, which deliver no events. The
    /// `Event` is borrowed for the hook's duration only.
    ///
    /// A panic in the hook does not cross into C: it is caught (the panic
    /// hook still reports it, on stderr by default), the call goes on and
    /// returns its own result, and [`event_hook_panics`](Client::event_hook_panics)
    /// counts it.
    ///
    /// May be called at any time from any thread while calls run: events
    /// of calls in progress go to the old hook or the new one. Once it
    /// returns, the old hook is not running, is never called again, and
    /// has been dropped (on this thread).
    ///
    /// Fails with [`Error::InvalidArgument`] (nothing changed) when called
    /// from inside an event hook, where it would wait for itself.
    pub fn set_event_hook(&self, hook: Option<EventHook>) -> Result<(), Error> {
        if InsideHook::now() {
            return Err(Error::new(
                sys::KASKO_ERR_INVALID_ARGUMENT,
                "Client::set_event_hook called from inside an event hook",
            ));
        }
        let next = hook.map(|hook| {
            Box::new(HookState {
                hook,
                panics: Arc::clone(&self.hook_panics),
            })
        });
        let (function, user_data): (sys::kasko_event_hook, *mut c_void) = match &next {
            Some(state) => (
                Some(deliver_event),
                ptr::from_ref::<HookState>(state).cast_mut().cast(),
            ),
            None => (None, ptr::null_mut()),
        };
        let mut current = self.hook.lock().unwrap_or_else(PoisonError::into_inner);
        // SAFETY: a live handle; `user_data` is a HookState that stays
        // allocated (in `self.hook`) until the library has let go of it.
        let status =
            unsafe { sys::kasko_client_set_event_hook(self.handle.as_ptr(), function, user_data) };
        if status != sys::KASKO_OK {
            return Err(Error::new(
                status,
                &format!("kasko_client_set_event_hook returned {}", status_name(status)),
            ));
        }
        let previous = std::mem::replace(&mut *current, next);
        drop(current);
        // The library no longer calls it: dropped outside the lock, so the
        // closure's captures may do anything when dropped.
        drop(previous);
        Ok(())
    }

    /// Clears the event hook: `set_event_hook(None)`.
    pub fn clear_event_hook(&self) -> Result<(), Error> {
        self.set_event_hook(None)
    }

    /// How many panics this client's event hooks have raised (caught; see
    /// [`set_event_hook`](Client::set_event_hook)).
    pub fn event_hook_panics(&self) -> u64 {
        self.hook_panics.load(Ordering::Relaxed)
    }

    /// The C handle, still owned by this `Client`.
    pub fn as_ptr(&self) -> *mut sys::kasko_client {
        self.handle.as_ptr()
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        // Asynchronous calls still in flight end cancelled: kasko_client_free
        // runs their callbacks, which touch only their own CallFuture state,
        // before it returns. No CallFuture cancels through the handle from
        // here on (Liveness).
        let inside_own_callback = asynchronous::completing(self.handle);
        // SAFETY: owned, and `&mut self` means no blocking call is running;
        // `free` keeps the futures' kasko_call_cancel out meanwhile.
        self.live
            .free(|handle| unsafe { sys::kasko_client_free(handle) });
        if inside_own_callback {
            // Dropped inside one of this client's own completions (a waker
            // that dropped it): kasko_client_free returned at once, and the
            // other calls' callbacks, with their events, run after this one
            // returns. The hook must outlive them: it is leaked.
            if let Some(state) = self
                .hook
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
            {
                std::mem::forget(state);
            }
        }
        // Otherwise the hook's state is dropped after this, when no hook
        // runs any more.
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
    fn version_number_matches_the_version_and_the_header() {
        let parts: Vec<i32> = version()
            .split('.')
            .map(|part| part.parse().unwrap())
            .collect();
        assert_eq!(parts.len(), 3, "{}", version());
        assert_eq!(
            version_number(),
            parts[0] * 1_000_000 + parts[1] * 1_000 + parts[2]
        );
        assert!(
            version_number() >= sys::KASKO_VERSION_NUMBER,
            "library {} is older than the header of sys.rs ({})",
            version_number(),
            sys::KASKO_VERSION_NUMBER
        );
    }

    #[test]
    fn every_status_maps_to_its_variant() {
        for status in 1..=sys::KASKO_ERR_CANCELLED {
            let error = Error::new(status, "what went wrong");
            assert_eq!(error.status(), status);
            assert_eq!(error.code(), status_name(status));
            assert_eq!(error.message(), "what went wrong");
            let variant = format!("{error:?}");
            let name: String = status_name(status)
                .trim_start_matches("KASKO_ERR_")
                .split('_')
                .map(|word| word[..1].to_string() + &word[1..].to_lowercase())
                .collect();
            assert!(
                variant.starts_with(&format!("{name}(")),
                "{status}: {variant}"
            );
        }
    }

    #[test]
    fn an_error_of_the_bindings_has_the_librarys_shape() {
        let error = Error::new(sys::KASKO_ERR_PENDING_PAYMENT, "pending \"t1\" \u{fc}");
        assert!(matches!(error, Error::PendingPayment(_)));
        assert_eq!(error.http_status(), None);
        assert_eq!(error.outcome(), Outcome::NotSent);
        assert_eq!(error.attempts(), 0);
        assert!(!error.retryable());
        assert_eq!(error.request_id(), None);
        assert_eq!(error.pending_payment_id(), None);
        assert_eq!(
            error.to_string(),
            "KASKO_ERR_PENDING_PAYMENT: pending \"t1\" \u{fc}"
        );
        let answer = error.answer();
        assert!(!answer.is_ok());
        assert_eq!(answer.member_str("object"), Some("error"));
        assert_eq!(answer.member_str("code"), Some("KASKO_ERR_PENDING_PAYMENT"));
        assert_eq!(answer.member_str("message"), Some("pending \"t1\" \u{fc}"));
        assert_eq!(answer.member_str("outcome"), Some("not_sent"));
        assert_eq!(answer.member_type("http_status"), Some(JsonType::Null));
        assert_eq!(answer.member_json("http_status"), Some("null"));
        assert_eq!(answer.member_i64("attempts"), Some(0));
        assert_eq!(answer.member_f64("attempts"), Some(0.0));
        assert_eq!(answer.member_bool("retryable"), Some(false));
        assert_eq!(answer.member_type("attempts"), Some(JsonType::Number));
        assert_eq!(answer.member_type("retryable"), Some(JsonType::Bool));
        assert_eq!(answer.member_type("code"), Some(JsonType::String));
        // Another type, absent, a name C cannot carry.
        assert_eq!(answer.member_str("attempts"), None);
        assert_eq!(answer.member_i64("code"), None);
        assert_eq!(answer.member_bool("attempts"), None);
        assert_eq!(answer.member_type("no_such_member"), None);
        assert_eq!(answer.member_json("no_such_member"), None);
        assert_eq!(answer.member_str("code\0"), None);
        assert_eq!(error.clone(), error);
        assert_ne!(error, Error::new(sys::KASKO_ERR_PENDING_PAYMENT, "another"));
    }

    #[test]
    fn a_nul_in_a_message_is_shown_not_cut() {
        let error = Error::new(sys::KASKO_ERR_INVALID_ARGUMENT, "a\0b");
        assert_eq!(error.message(), "a\\0b");
    }

    #[test]
    fn an_error_cannot_be_made_with_ok_or_an_unknown_status() {
        for status in [sys::KASKO_OK, sys::KASKO_ERR_CANCELLED + 1, u32::MAX] {
            let error = Error::new(status, "fine");
            assert!(matches!(error, Error::InvalidArgument(_)), "{error:?}");
            assert_eq!(error.outcome(), Outcome::NotSent);
            assert_ne!(error.message(), "fine", "the library says what is wrong");
        }
    }

    #[test]
    fn outcomes_have_the_librarys_names() {
        for (outcome, name) in [
            (Outcome::Succeeded, "KASKO_OUTCOME_SUCCEEDED"),
            (Outcome::NotSent, "KASKO_OUTCOME_NOT_SENT"),
            (Outcome::Rejected, "KASKO_OUTCOME_REJECTED"),
            (Outcome::Unknown, "KASKO_OUTCOME_UNKNOWN"),
            (Outcome::Other(99), "KASKO_OUTCOME_INVALID"),
        ] {
            assert_eq!(outcome.name(), name);
            assert_eq!(Outcome::from_raw(outcome.as_raw()), outcome);
        }
        for raw in 0..=7 {
            assert_eq!(
                JsonType::from_raw(raw).is_none(),
                raw == sys::KASKO_JSON_NONE
            );
        }
    }

    #[test]
    fn a_request_does_not_show_its_token() {
        let request = PaymentRequest::new("ptok_secret", "invoice", "invoice", "tpol_1");
        let shown = format!("{request:?}");
        assert!(!shown.contains("ptok_secret"), "{shown}");
        assert!(shown.contains("tpol_1"), "{shown}");
    }

    #[test]
    fn durations_are_whole_milliseconds_rounded_up() {
        for (duration, want) in [
            (Duration::ZERO, 0),
            (Duration::from_nanos(1), 1),
            (Duration::from_micros(1500), 2),
            (Duration::from_millis(1), 1),
            (Duration::from_secs(30), 30_000),
            (Duration::from_secs(3600), 3_600_000),
            (Duration::from_nanos(3_600_000_000_001), 3_600_001),
            (Duration::from_secs_f64(0.25), 250),
            (Duration::MAX, c_long::MAX),
        ] {
            assert_eq!(milliseconds(duration), want, "{duration:?}");
        }
    }

    #[test]
    fn a_config_does_not_show_its_secret_key() {
        let config = Config::new()
            .public_key("pk_test_shown")
            .secret_key("sk_test_verysecret")
            .secret_key("sk_test_verysecret")
            .max_retries(1);
        for shown in [format!("{config:?}"), format!("{config:#?}")] {
            assert!(!shown.contains("verysecret"), "{shown}");
            assert!(
                !shown.contains("pk_test_shown"),
                "no values at all: {shown}"
            );
            assert!(
                shown.contains("secret_key") && shown.contains("max_retries"),
                "{shown}"
            );
        }
        assert_eq!(config.keys, ["public_key", "secret_key", "max_retries"]);
    }

    #[test]
    fn client_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Client>();
        check::<Error>();
        check::<Answer>();
        check::<CallOptions>();
        check::<PaymentRequest>();
        check::<Config>();
        check::<CallFuture<Answer>>();
        check::<CallFuture<String>>();
        check::<CallFuture<Offer>>();
    }
}

/// The README's example, compiled as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExample;
