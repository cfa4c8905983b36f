//! The checkout calls of libkasko 1.3: quote, offer, offer and policy views
//! (with the policy's `ETag` / `Last-Modified`), and the resolution of a
//! payment create whose outcome was unknown.
//!
//! Each call returns a typed struct over the call's [`Answer`]: the raw
//! JSON ([`json`](Quote::json)) plus the key members, read by the library.
//! Request bodies are JSON text passed through as given: the library checks
//! them before any I/O, so nothing here writes or parses JSON.

use std::fmt;
use std::ptr;

use crate::{borrowed_str, c_string, sys, Answer, CallOptions, Client, Error, PaymentFields, PaymentRequest};

impl Answer {
    /// A policy view's `ETag` header (`kasko_result_etag`, 1.3), as the
    /// server sent it (a version id such as `tpv_...`): send it back as
    /// `If-Match`. `None` for any other result, or when none was sent.
    pub fn etag(&self) -> Option<&str> {
        // SAFETY: owned by the result, valid until it is freed.
        unsafe { borrowed_str(sys::kasko_result_etag(self.as_ptr())) }
    }

    /// A policy view's `Last-Modified` header (`kasko_result_last_modified`,
    /// 1.3), an HTTP date: send it back as `If-Unmodified-Since`. `None` for
    /// any other result, or when none was sent.
    pub fn last_modified(&self) -> Option<&str> {
        // SAFETY: owned by the result, valid until it is freed.
        unsafe { borrowed_str(sys::kasko_result_last_modified(self.as_ptr())) }
    }
}

/// A price for an insurance ([`Client::create_quote`], `POST /quotes`).
pub struct Quote {
    answer: Answer,
}

impl Quote {
    /// The typed view of a successful call's answer (blocking or asynchronous).
    pub(crate) fn from_answer(answer: Answer) -> Quote {
        Quote { answer }
    }

    /// The quote's token, for the offer's `"quote_token"` (`qtok_...`).
    pub fn token(&self) -> &str {
        self.answer.member_str("token").unwrap_or("")
    }

    /// `"gross_payment_amount"` in minor units (cents).
    pub fn gross_payment_amount(&self) -> Option<i64> {
        self.answer.member_i64("gross_payment_amount")
    }

    /// The quote exactly as the API sent it.
    pub fn json(&self) -> &str {
        self.answer.json()
    }

    /// The call's answer: HTTP status, request id, attempts, any member.
    pub fn answer(&self) -> &Answer {
        &self.answer
    }
}

impl fmt::Debug for Quote {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Quote")
            .field("token", &self.token())
            .field("gross_payment_amount", &self.gross_payment_amount())
            .finish()
    }
}

/// An offer: an unpaid policy ([`Client::create_offer`], `POST /policies`,
/// or [`Client::get_offer`], `GET /offers/{id}`).
///
/// It holds the offer's payment token, which pays the policy: treat it like
/// a key. `Debug` redacts it, and there is no `Display`; the [`Answer`] is
/// not handed out (its `Debug` and `Display` show the JSON), only
/// [`json`](Offer::json), for a caller who asks for the raw text.
pub struct Offer {
    answer: Answer,
}

impl Offer {
    /// The typed view of a successful call's answer (blocking or asynchronous).
    pub(crate) fn from_answer(answer: Answer) -> Offer {
        Offer { answer }
    }

    /// The policy id (`tpol_...` / `lpol_...`), checked by the library.
    pub fn id(&self) -> &str {
        self.answer.member_str("id").unwrap_or("")
    }

    /// The payment token, `None` while the offer awaits manual underwriting.
    pub fn payment_token(&self) -> Option<&str> {
        self.answer.member_str("payment_token")
    }

    /// `"status"` of a viewed offer: `"pending"` (awaiting approval),
    /// `"ready"` (payable), `"accepted"` (a payment was accepted); `None`
    /// for a created offer, whose answer has none.
    pub fn status(&self) -> Option<&str> {
        self.answer.member_str("status")
    }

    /// `"insurer_policy_id"`.
    pub fn insurer_policy_id(&self) -> Option<&str> {
        self.answer.member_str("insurer_policy_id")
    }

    /// The offer exactly as the API sent it. It holds the payment token:
    /// never log it.
    pub fn json(&self) -> &str {
        self.answer.json()
    }

    /// The HTTP status of the answer (201 for a created offer, 200 for a view).
    pub fn http_status(&self) -> Option<u16> {
        self.answer.http_status()
    }

    /// The response's `X-Request-Id`.
    pub fn request_id(&self) -> Option<&str> {
        self.answer.request_id()
    }

    /// The attempts made.
    pub fn attempts(&self) -> u32 {
        self.answer.attempts()
    }
}

impl fmt::Debug for Offer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Offer")
            .field("id", &self.id())
            .field("status", &self.status())
            .field("payment_token", &self.payment_token().map(|_| "[redacted]"))
            .finish()
    }
}

/// A policy ([`Client::get_policy`], `GET /policies/{id}`) with the
/// response's `ETag` and `Last-Modified`.
pub struct Policy {
    answer: Answer,
}

impl Policy {
    /// The typed view of a successful call's answer (blocking or asynchronous).
    pub(crate) fn from_answer(answer: Answer) -> Policy {
        Policy { answer }
    }

    /// The policy id.
    pub fn id(&self) -> &str {
        self.answer.member_str("id").unwrap_or("")
    }

    /// `"status"`: `"pending"` until KASKO has created the policy after its
    /// payment (asynchronously), then `"paid"`.
    pub fn status(&self) -> Option<&str> {
        self.answer.member_str("status")
    }

    /// Whether `"status"` is `"paid"`.
    pub fn is_paid(&self) -> bool {
        self.status() == Some("paid")
    }

    /// `"version_id"`, which changes whenever the policy does.
    pub fn version_id(&self) -> Option<&str> {
        self.answer.member_str("version_id")
    }

    /// The `ETag` header ([`Answer::etag`]).
    pub fn etag(&self) -> Option<&str> {
        self.answer.etag()
    }

    /// The `Last-Modified` header ([`Answer::last_modified`]).
    pub fn last_modified(&self) -> Option<&str> {
        self.answer.last_modified()
    }

    /// The policy exactly as the API sent it.
    pub fn json(&self) -> &str {
        self.answer.json()
    }

    /// The call's answer: HTTP status, request id, attempts, any member.
    pub fn answer(&self) -> &Answer {
        &self.answer
    }
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("id", &self.id())
            .field("status", &self.status())
            .field("etag", &self.etag())
            .field("last_modified", &self.last_modified())
            .finish()
    }
}

/// What [`Client::resolve_payment`] found (`"state"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PaymentState {
    /// `"paid"`: the policy is paid (by the lost create, or by the resolve).
    Paid,
    /// `"pending"`: a payment exists and has not settled.
    Pending,
    /// `"not_paid"`: no payment exists, and the create is refused as it
    /// stands, or the payment the resolve made was declined: safe to create
    /// again once the cause is mended.
    NotPaid,
}

impl PaymentState {
    /// The state as the library writes it: `"paid"`, `"pending"`, `"not_paid"`.
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentState::Paid => "paid",
            PaymentState::Pending => "pending",
            PaymentState::NotPaid => "not_paid",
        }
    }

    fn parse(state: &str) -> Option<PaymentState> {
        match state {
            "paid" => Some(PaymentState::Paid),
            "pending" => Some(PaymentState::Pending),
            "not_paid" => Some(PaymentState::NotPaid),
            _ => None,
        }
    }
}

impl fmt::Display for PaymentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The library's `"payment_resolution"` ([`Client::resolve_payment`]). It
/// holds no payment token.
pub struct PaymentResolution {
    answer: Answer,
    state: PaymentState,
}

impl PaymentResolution {
    /// Paid, pending or not paid.
    pub fn state(&self) -> PaymentState {
        self.state
    }

    /// The policy resolved.
    pub fn policy_id(&self) -> &str {
        self.answer.member_str("policy_id").unwrap_or("")
    }

    /// The payment's id when an answer named it (a pending payment, or the
    /// payment this call made).
    pub fn payment_id(&self) -> Option<&str> {
        self.answer.member_str("payment_id")
    }

    /// True when the lost create had not paid and this call made the payment.
    pub fn created_by_this_call(&self) -> bool {
        self.answer
            .member_bool("created_by_this_call")
            .unwrap_or(false)
    }

    /// Which answer decided: `"policy_paid"`, `"already_paid"`,
    /// `"pending_payment"`, `"created"` or `"create_refused"`.
    pub fn evidence(&self) -> &str {
        self.answer.member_str("evidence").unwrap_or("")
    }

    /// What the library found, in words.
    pub fn message(&self) -> &str {
        self.answer.member_str("message").unwrap_or("")
    }

    /// The resolution as JSON text.
    pub fn json(&self) -> &str {
        self.answer.json()
    }

    /// The call's answer: the last answer's HTTP status and request id, the
    /// attempts and time of both calls together.
    pub fn answer(&self) -> &Answer {
        &self.answer
    }
}

impl fmt::Debug for PaymentResolution {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PaymentResolution")
            .field("state", &self.state)
            .field("policy_id", &self.policy_id())
            .field("payment_id", &self.payment_id())
            .field("created_by_this_call", &self.created_by_this_call())
            .field("evidence", &self.evidence())
            .field("message", &self.message())
            .finish()
    }
}

/// What a refused argument is called, by the blocking and the asynchronous calls.
pub(crate) const QUOTE_REQUEST: &str = "quote request";
pub(crate) const OFFER_REQUEST: &str = "offer request";
pub(crate) const POLICY_ID: &str = "policy_id";

type JsonCall = unsafe extern "C" fn(
    *mut sys::kasko_client,
    *const std::os::raw::c_char,
    *const sys::kasko_call_options,
    *mut *mut sys::kasko_result,
) -> sys::kasko_status;

impl Client {
    /// One `_v2` call taking one string (a request body or a policy id).
    fn call_one(
        &self,
        call: JsonCall,
        argument: &str,
        what: &str,
        options: &CallOptions,
    ) -> Result<Answer, Error> {
        let argument = c_string(argument, || what.to_string())?;
        let options = options.for_call()?;
        let mut out = ptr::null_mut();
        // SAFETY: a live handle, a valid C string, live options or NULL, an
        // out pointer we own.
        let status = unsafe { call(self.handle.as_ptr(), argument.as_ptr(), options, &mut out) };
        // SAFETY: the result is ours.
        unsafe { Answer::from_call(status, out) }.into_result()
    }

    /// Prices an insurance (`kasko_quote_create_v2`, `POST /quotes`, 1.3).
    /// `request_json` is a JSON object with `"item_id"`,
    /// `"subscription_plan_id"`, `"integration_id"` and the object `"data"`.
    /// A 400 is [`Error::BadRequest`], its `"errors"` array in
    /// `error.answer().member_json("errors")`.
    pub fn create_quote(&self, request_json: &str) -> Result<Quote, Error> {
        self.create_quote_with(request_json, &CallOptions::new())
    }

    /// [`create_quote`](Client::create_quote) with per-call options.
    pub fn create_quote_with(
        &self,
        request_json: &str,
        options: &CallOptions,
    ) -> Result<Quote, Error> {
        self.call_one(
            sys::kasko_quote_create_v2,
            request_json,
            QUOTE_REQUEST,
            options,
        )
        .map(Quote::from_answer)
    }

    /// Makes an offer, an unpaid policy (`kasko_offer_create_v2`,
    /// `POST /policies`, 1.3). `request_json` is a JSON object with
    /// `"quote_token"`, `"first_name"`, `"last_name"`, `"email"`,
    /// `"language"` and optionally `"data"` and `"metadata"`. Sent at most
    /// once (an offer made by a call whose outcome is unknown is harmless).
    pub fn create_offer(&self, request_json: &str) -> Result<Offer, Error> {
        self.create_offer_with(request_json, &CallOptions::new())
    }

    /// [`create_offer`](Client::create_offer) with per-call options.
    pub fn create_offer_with(
        &self,
        request_json: &str,
        options: &CallOptions,
    ) -> Result<Offer, Error> {
        self.call_one(
            sys::kasko_offer_create_v2,
            request_json,
            OFFER_REQUEST,
            options,
        )
        .map(Offer::from_answer)
    }

    /// Views an offer (`kasko_offer_get_v2`, `GET /offers/{id}`, 1.3; needs
    /// the secret key): its status and, once payable, its payment token.
    pub fn get_offer(&self, policy_id: &str) -> Result<Offer, Error> {
        self.get_offer_with(policy_id, &CallOptions::new())
    }

    /// [`get_offer`](Client::get_offer) with per-call options.
    pub fn get_offer_with(&self, policy_id: &str, options: &CallOptions) -> Result<Offer, Error> {
        self.call_one(sys::kasko_offer_get_v2, policy_id, POLICY_ID, options)
            .map(Offer::from_answer)
    }

    /// Views a policy (`kasko_policy_get_v2`, `GET /policies/{id}`, 1.3;
    /// needs the secret key), with its `ETag` and `Last-Modified`.
    pub fn get_policy(&self, policy_id: &str) -> Result<Policy, Error> {
        self.get_policy_with(policy_id, &CallOptions::new())
    }

    /// [`get_policy`](Client::get_policy) with per-call options.
    pub fn get_policy_with(&self, policy_id: &str, options: &CallOptions) -> Result<Policy, Error> {
        self.call_one(sys::kasko_policy_get_v2, policy_id, POLICY_ID, options)
            .map(Policy::from_answer)
    }

    /// Finds out what became of a [`create_payment`](Client::create_payment)
    /// whose outcome was unknown (`kasko_payment_resolve`, 1.3), never making
    /// a second payment: pass the same request. It views the policy and,
    /// unless it is paid, sends the identical create once, whose refusals
    /// say what the lost one did. An `Err` means nothing was settled (the
    /// view or the repeated create got no usable answer): resolving again
    /// later stays safe.
    pub fn resolve_payment(&self, request: &PaymentRequest) -> Result<PaymentResolution, Error> {
        self.resolve_payment_with(request, &CallOptions::new())
    }

    /// [`resolve_payment`](Client::resolve_payment) with per-call options.
    pub fn resolve_payment_with(
        &self,
        request: &PaymentRequest,
        options: &CallOptions,
    ) -> Result<PaymentResolution, Error> {
        let fields = PaymentFields::of(request)?;
        let options = options.for_call()?;
        let mut out = ptr::null_mut();
        // SAFETY: a live handle, valid C strings, live options or NULL, an
        // out pointer we own.
        let status = unsafe {
            sys::kasko_payment_resolve(
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
        let answer = unsafe { Answer::from_call(status, out) }.into_result()?;
        match answer.member_str("state").and_then(PaymentState::parse) {
            Some(state) => Ok(PaymentResolution { answer, state }),
            None => Err(Error::new(
                sys::KASKO_ERR_INTERNAL,
                &format!(
                    "kasko_payment_resolve returned no known \"state\": {}",
                    answer.member_str("state").unwrap_or("(none)")
                ),
            )),
        }
    }
}
