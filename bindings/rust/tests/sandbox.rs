//! Tests of the `kasko` crate against a running kasko-sandbox
//! (`KASKO_SANDBOX_URL`, as `scripts/with-sandbox` sets it), and against
//! one-shot servers of their own where a test must see the request or get
//! no answer.
mod common;
use common::env;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use kasko::{
    config_key, sys, Answer, CallOptions, Client, Config, Error, JsonType, Outcome, PaymentRequest,
};

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";


fn sandbox_url() -> String {
    env("KASKO_SANDBOX_URL", None)
}

/// Reads one HTTP/1.1 message's head and, by its Content-Length, its body.
fn read_message(stream: &mut TcpStream) -> (String, String) {
    let mut message = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).expect("read an HTTP message");
        if n == 0 {
            break;
        }
        message.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&message);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if message.len() >= end + 4 + length {
                break;
            }
        }
    }
    let text = String::from_utf8(message).expect("UTF-8");
    let end = text.find("\r\n\r\n").expect("a complete head");
    (text[..end].to_string(), text[end + 4..].to_string())
}

struct Offer {
    policy_id: String,
    token: String,
}

/// POST /__sandbox/offers over a hand-written HTTP/1.1 request.
fn new_offer() -> Offer {
    let url = sandbox_url();
    let authority = url.strip_prefix("http://").expect("an http:// sandbox URL");
    let authority = authority.split('/').next().unwrap();
    let mut stream = TcpStream::connect(authority).expect("connect to the sandbox");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "POST /__sandbox/offers HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
         Content-Length: 2\r\nConnection: close\r\n\r\n{{}}"
    )
    .unwrap();
    let (head, body) = read_message(&mut stream);
    assert!(
        head.starts_with("HTTP/1.1 201"),
        "offer: {head}\r\n\r\n{body}"
    );
    // The sandbox's own answer, not the library's, so no getter reads it:
    // it is exactly {"policy_id":"tpol_<hex>","token":"ptok_<hex>"}, and
    // split at its quotes it is nine pieces.
    match body.split('"').collect::<Vec<_>>().as_slice() {
        ["{", "policy_id", ":", policy_id, ",", "token", ":", token, "}"] => Offer {
            policy_id: policy_id.to_string(),
            token: token.to_string(),
        },
        _ => panic!("an offer of another shape: {body}"),
    }
}

fn request(offer: &Offer, provider: &str) -> PaymentRequest {
    PaymentRequest::new(&offer.token, provider, provider, &offer.policy_id)
}

fn config_for(base_url: &str, with_secret: bool, extra: &str) -> String {
    let secret = if with_secret {
        format!(
            r#","secret_key":"{}""#,
            env("KASKO_SANDBOX_SECRET_KEY", Some("sk_test_sandbox"))
        )
    } else {
        String::new()
    };
    format!(
        r#"{{"public_key":"{}"{secret},"base_url":"{base_url}","max_retries":0{extra}}}"#,
        env("KASKO_SANDBOX_PUBLIC_KEY", Some("pk_test_sandbox")),
    )
}

fn config(with_secret: bool) -> String {
    config_for(&sandbox_url(), with_secret, "")
}

fn client() -> Client {
    Client::new(&config(true)).expect("a client")
}

/// Creates a payment for a new offer and returns its answer.
fn create(client: &Client, provider: &str) -> Answer {
    client
        .create_payment_with(&request(&new_offer(), provider), &CallOptions::new())
        .expect("create")
}

/// An offer with a deferred, so pending, payment, and that payment's id.
fn a_pending_payment(client: &Client) -> (Offer, String) {
    let offer = new_offer();
    let created = client
        .create_payment_with(&request(&offer, "deferred"), &CallOptions::new())
        .expect("create");
    (offer, id_of(&created))
}

fn id_of(answer: &Answer) -> String {
    answer
        .member_str("id")
        .unwrap_or_else(|| panic!("no id in {answer}"))
        .to_string()
}

const UNKNOWN_ID: &str = "t00000000000000000000000000000000";

/// Asserts that `error` was refused before any I/O with the library's shape.
fn assert_not_sent(error: &Error) {
    assert!(matches!(error, Error::InvalidArgument(_)), "{error:?}");
    assert_eq!(error.http_status(), None, "{error:?}");
    assert_eq!(error.outcome(), Outcome::NotSent, "{error:?}");
    assert_eq!(error.attempts(), 0, "{error:?}");
    assert!(!error.retryable(), "{error:?}");
    assert_eq!(error.request_id(), None, "{error:?}");
    assert_eq!(
        error.answer().member_str("code"),
        Some("KASKO_ERR_INVALID_ARGUMENT")
    );
    assert_eq!(error.answer().member_str("message"), Some(error.message()));
}

// ---- the tests of 1.0, on the 1.1 calls ---------------------------------------------

#[test]
fn create_a_payment_then_view_it() {
    let client = client();
    let created = client
        .create_payment(&request(&new_offer(), "invoice"))
        .expect("create");
    assert!(created.contains(r#""object":"payment""#), "{created}");

    let id = id_of(&create(&client, "invoice"));
    let viewed = client.get_payment(&id).expect("view");
    assert!(viewed.contains(&format!(r#""id":"{id}""#)), "{viewed}");
    let viewed = client
        .get_payment_with(&id, &CallOptions::new())
        .expect("view");
    assert_eq!(viewed.member_str("id"), Some(id.as_str()));
    assert_eq!(
        viewed.member_str("status"),
        Some("ok"),
        "invoice payments are ok at once"
    );
}

#[test]
fn an_unknown_payment_is_not_found() {
    let error = client().get_payment(UNKNOWN_ID).unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
    assert_eq!(error.http_status(), Some(404));
    assert_eq!(error.code(), "KASKO_ERR_NOT_FOUND");
    assert!(
        error.json().contains(r#""code":"KASKO_ERR_NOT_FOUND""#),
        "{}",
        error.json()
    );
}

#[test]
fn an_unknown_provider_is_not_found() {
    let error = client()
        .create_payment(&request(&new_offer(), "no_such_provider"))
        .unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
    assert_eq!(error.http_status(), Some(404));
    assert_eq!(error.outcome(), Outcome::Rejected);
}

#[test]
fn a_pending_payment_blocks_another() {
    let client = client();
    let (offer, pending) = a_pending_payment(&client);
    let error = client
        .create_payment(&request(&offer, "deferred"))
        .unwrap_err();
    match &error {
        Error::PendingPayment(details) => {
            assert_eq!(details.http_status(), Some(422));
            assert_eq!(details.pending_payment_id(), Some(pending.as_str()));
        }
        other => panic!("expected PendingPayment, got {other:?}"),
    }
    assert!(
        error.to_string().contains(&pending),
        "the message names it: {error}"
    );
}

#[test]
fn a_bad_payment_id_is_refused_before_io() {
    let error = client().get_payment("../x").unwrap_err();
    assert!(matches!(error, Error::InvalidArgument(_)), "{error:?}");
    assert_eq!(error.http_status(), None);
    assert!(
        error.json().contains(r#""outcome":"not_sent""#),
        "{}",
        error.json()
    );
    assert_not_sent(&error);
}

/// 1.0's "a request without a field": a typed request always has its four
/// fields, so the incomplete one has an empty field.
#[test]
fn a_request_with_an_empty_field_is_invalid() {
    let offer = new_offer();
    let incomplete = PaymentRequest::new(&offer.token, "invoice", "", &offer.policy_id);
    let error = client().create_payment(&incomplete).unwrap_err();
    assert!(matches!(error, Error::InvalidArgument(_)), "{error:?}");
    assert_eq!(error.http_status(), None);
    assert!(
        error.message().contains("method"),
        "the message names the field: {error}"
    );
    assert_not_sent(&error);
}

#[test]
fn a_nul_character_is_refused_not_truncated() {
    let error = client().get_payment("t123\0../x").unwrap_err();
    assert!(matches!(error, Error::InvalidArgument(_)), "{error:?}");
    assert!(error.message().contains("NUL"), "{error}");
    assert_not_sent(&error);
}

#[test]
fn a_bad_configuration_is_invalid() {
    let error = Client::new(r#"{"public_key":"pk_test_x","typo":1}"#).unwrap_err();
    assert!(matches!(error, Error::InvalidArgument(_)), "{error:?}");
    assert_eq!(error.http_status(), None);
    assert_not_sent(&error);
    // The library's own message (not JSON inside a message) ...
    assert!(
        error
            .message()
            .starts_with(r#"unknown configuration key "typo""#),
        "{error}"
    );
    assert!(!error.message().contains('{'), "{error}");
    assert_eq!(error.answer().message(), Some(error.message()));
    assert_eq!(
        error.to_string(),
        format!("KASKO_ERR_INVALID_ARGUMENT: {}", error.message())
    );
    // ... and its error object, read by the library.
    let answer = error.answer();
    assert!(
        error.json().starts_with(r#"{"object":"error""#),
        "{}",
        error.json()
    );
    assert_eq!(answer.member_str("outcome"), Some("not_sent"));
    assert_eq!(answer.member_i64("attempts"), Some(0));
    assert_eq!(answer.member_type("http_status"), Some(JsonType::Null));
}

#[test]
fn a_bad_key_is_refused_with_the_librarys_message_never_quoting_it() {
    for (config, names, secret) in [
        (
            r#"{"public_key":"pk_test_abc","secret_key":"sk_test_\u0001verysecretvalue"}"#,
            "secret_key",
            "verysecretvalue",
        ),
        (
            r#"{"public_key":"pk_test_abc","secret_key":"sk_live_verysecretvalue"}"#,
            "secret_key",
            "verysecretvalue",
        ),
        (
            r#"{"public_key":"pk_test_has space"}"#,
            "public_key",
            "has space",
        ),
        ("not json", "configuration is not valid JSON", "not json"),
    ] {
        let error = Client::new(config).unwrap_err();
        assert_not_sent(&error);
        assert!(error.message().contains(names), "{config}: {error}");
        assert!(!error.message().contains(secret), "{config}: {error}");
        assert!(!error.json().contains(secret), "{config}: {}", error.json());
        assert!(
            !format!("{error:?}").contains(secret),
            "{config}: {error:?}"
        );
    }
}

#[test]
fn without_a_secret_key_a_view_is_unauthorized() {
    let client = Client::new(&config(false)).expect("a client");
    let id = id_of(&create(&client, "invoice"));
    let error = client.get_payment(&id).unwrap_err();
    assert!(matches!(error, Error::Unauthorized(_)), "{error:?}");
    assert!(matches!(error.http_status(), Some(401 | 403)), "{error:?}");
}

#[test]
fn errors_work_with_question_mark_and_box_dyn_error() {
    fn view(client: &Client) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
        Ok(client.get_payment(UNKNOWN_ID)?)
    }
    let error = view(&client()).unwrap_err();
    let error = error.downcast_ref::<Error>().expect("a kasko::Error");
    assert!(matches!(error, Error::NotFound(_)));
}

#[test]
fn one_client_from_8_threads() {
    let client = client();
    // One options object for every thread's calls, too.
    let options = CallOptions::new()
        .traceparent(TRACEPARENT)
        .timeout(Duration::from_secs(30));
    let rounds = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                for _ in 0..3 {
                    let created = client
                        .create_payment_with(&request(&new_offer(), "invoice"), &options)
                        .unwrap();
                    let id = id_of(&created);
                    let viewed = client.get_payment_with(&id, &options).unwrap();
                    assert_eq!(viewed.member_str("id"), Some(id.as_str()));
                    assert!(matches!(
                        client.get_payment(UNKNOWN_ID),
                        Err(Error::NotFound(_))
                    ));
                    rounds.fetch_add(1, Ordering::Relaxed);
                }
            });
        }
    });
    assert_eq!(rounds.load(Ordering::Relaxed), 24);
    // Moved to another thread and dropped there.
    std::thread::spawn(move || drop(client)).join().unwrap();
}

// ---- typed getters ----------------------------------------------------------------

#[test]
fn a_created_payment_has_typed_getters() {
    let client = client();
    let offer = new_offer();
    let answer = client
        .create_payment_with(&request(&offer, "invoice"), &CallOptions::new())
        .expect("create");
    assert!(answer.is_ok());
    assert_eq!(answer.status(), kasko::sys::KASKO_OK);
    assert_eq!(answer.code(), "KASKO_OK");
    assert_eq!(answer.outcome(), Outcome::Succeeded);
    assert_eq!(answer.http_status(), Some(200));
    assert_eq!(answer.attempts(), 1);
    assert!(!answer.retryable());
    assert_eq!(answer.message(), None);
    assert_eq!(answer.pending_payment_id(), None);
    assert!(
        answer.request_id().is_some_and(|id| !id.is_empty()),
        "the sandbox sends an X-Request-Id: {answer:?}"
    );
    assert_eq!(answer.to_string(), answer.json());
    assert!(answer.json().starts_with('{'), "{answer}");

    assert_eq!(answer.member_str("object"), Some("payment"));
    assert_eq!(
        answer.member_str("policy_id"),
        Some(offer.policy_id.as_str())
    );
    assert_eq!(answer.member_str("provider"), Some("invoice"));
    assert_eq!(answer.member_bool("livemode"), Some(false));
    assert_eq!(answer.member_i64("fee"), Some(0));
    assert_eq!(answer.member_f64("fee"), Some(0.0));
    assert_eq!(answer.member_type("fee"), Some(JsonType::Number));
    assert_eq!(answer.member_type("charge_id"), Some(JsonType::Null));
    assert_eq!(answer.member_json("charge_id"), Some("null"));
    assert_eq!(answer.member_type("refunds"), Some(JsonType::Array));
    assert_eq!(answer.member_json("refunds"), Some("[]"));
    assert_eq!(answer.member_type("_links"), Some(JsonType::Object));
    let id = id_of(&answer);
    let links = answer.member_json("_links").expect("_links");
    assert!(
        links.starts_with(r#"{"_self":"#) && links.contains(&id),
        "{links}"
    );
    assert_eq!(answer.member_json("id"), Some(format!("\"{id}\"").as_str()));
    // Members of other types, and absent ones.
    assert_eq!(answer.member_str("livemode"), None);
    assert_eq!(answer.member_i64("id"), None);
    assert_eq!(answer.member_bool("fee"), None);
    assert_eq!(answer.member_type("amount_of_nothing"), None);
    assert_eq!(answer.member_str("amount_of_nothing"), None);
    // Only top-level members.
    assert_eq!(answer.member_type("href"), None);

    // The answer outlives the client and crosses threads.
    drop(client);
    let object = std::thread::spawn(move || answer.member_str("object").map(str::to_string))
        .join()
        .unwrap();
    assert_eq!(object.as_deref(), Some("payment"));
}

#[test]
fn a_not_found_error_has_typed_getters() {
    let error = client()
        .get_payment_with(UNKNOWN_ID, &CallOptions::new())
        .unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
    assert_eq!(error.status(), kasko::sys::KASKO_ERR_NOT_FOUND);
    assert_eq!(error.http_status(), Some(404));
    assert_eq!(error.outcome(), Outcome::Rejected);
    assert!(!error.retryable());
    assert_eq!(error.attempts(), 1);
    assert_eq!(error.pending_payment_id(), None);
    assert!(!error.message().is_empty());
    let request_id = error
        .request_id()
        .expect("the sandbox sends an X-Request-Id");
    let answer = error.answer();
    assert!(!answer.is_ok());
    assert_eq!(answer.message(), Some(error.message()));
    assert_eq!(answer.member_str("object"), Some("error"));
    assert_eq!(answer.member_str("code"), Some("KASKO_ERR_NOT_FOUND"));
    assert_eq!(answer.member_i64("http_status"), Some(404));
    assert_eq!(answer.member_str("outcome"), Some("rejected"));
    assert_eq!(answer.member_bool("retryable"), Some(false));
    assert_eq!(answer.member_i64("attempts"), Some(1));
    assert_eq!(answer.member_str("request_id"), Some(request_id));
    assert_eq!(
        answer.member_type("pending_payment_id"),
        Some(JsonType::Null)
    );
    assert_eq!(answer.member_str("status"), Some("Not Found"));
}

#[test]
fn a_pending_payment_error_has_typed_getters() {
    let client = client();
    let (offer, pending) = a_pending_payment(&client);
    let error = client
        .create_payment_with(&request(&offer, "deferred"), &CallOptions::new())
        .unwrap_err();
    assert!(matches!(error, Error::PendingPayment(_)), "{error:?}");
    assert_eq!(error.pending_payment_id(), Some(pending.as_str()));
    assert_eq!(error.answer().pending_payment_id(), Some(pending.as_str()));
    assert_eq!(
        error.answer().member_str("pending_payment_id"),
        Some(pending.as_str())
    );
    assert_eq!(error.answer().member_i64("http_status"), Some(422));
    assert_eq!(error.http_status(), Some(422));
    assert_eq!(error.outcome(), Outcome::Rejected);
    assert_eq!(error.attempts(), 1);
    assert!(error.request_id().is_some(), "{error:?}");
    // The pending payment is there to view.
    let viewed = client
        .get_payment_with(&pending, &CallOptions::new())
        .expect("view");
    assert_eq!(viewed.member_str("status"), Some("pending"));
}

#[test]
fn a_nul_in_a_request_field_is_refused() {
    let offer = new_offer();
    let client = client();
    let bad = PaymentRequest::new(
        format!("{}\0x", offer.token),
        "invoice",
        "invoice",
        &offer.policy_id,
    );
    let error = client.create_payment(&bad).unwrap_err();
    assert_not_sent(&error);
    assert!(
        error.message().contains("token") && error.message().contains("NUL"),
        "{error}"
    );
    // Nothing was sent: the offer can still be paid.
    client
        .create_payment(&request(&offer, "invoice"))
        .expect("create");
}

// ---- per-call options ---------------------------------------------------------------

#[test]
fn an_invalid_traceparent_is_refused_with_the_librarys_message() {
    let client = client();
    let offer = new_offer();
    let options = CallOptions::new().traceparent("00-not-a-traceparent");
    let error = client.get_payment_with(UNKNOWN_ID, &options).unwrap_err();
    assert_not_sent(&error);
    assert!(
        error.message().starts_with("call option traceparent"),
        "the library's message: {error}"
    );
    let error = client
        .create_payment_with(&request(&offer, "invoice"), &options)
        .unwrap_err();
    assert_not_sent(&error);
    assert!(
        error.message().starts_with("call option traceparent"),
        "{error}"
    );
    // Nothing was sent: the offer can still be paid.
    client
        .create_payment(&request(&offer, "invoice"))
        .expect("create");
}

#[test]
fn invalid_tracestate_and_timeout_are_refused_with_the_librarys_messages() {
    let client = client();
    let error = client
        .get_payment_with(UNKNOWN_ID, &CallOptions::new().tracestate("no equals sign"))
        .unwrap_err();
    assert_not_sent(&error);
    assert!(
        error.message().starts_with("call option tracestate"),
        "{error}"
    );

    let error = client
        .get_payment_with(
            UNKNOWN_ID,
            &CallOptions::new().timeout(Duration::from_secs(u64::MAX)),
        )
        .unwrap_err();
    assert_not_sent(&error);
    assert!(error.message().contains("timeout_ms"), "{error}");
}

#[test]
fn a_refused_option_counts_until_it_is_set_again() {
    let client = client();
    let options = CallOptions::new()
        .traceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        .tracestate("vendor=value");
    assert_not_sent(&client.get_payment_with(UNKNOWN_ID, &options).unwrap_err());
    // Setting another option does not forget it.
    let options = options.timeout(Duration::from_secs(20));
    assert_not_sent(&client.get_payment_with(UNKNOWN_ID, &options).unwrap_err());
    // A valid value does; so does clearing it.
    let options = options.traceparent(TRACEPARENT);
    assert!(matches!(
        client.get_payment_with(UNKNOWN_ID, &options),
        Err(Error::NotFound(_))
    ));
    let options = options
        .traceparent("00-00000000000000000000000000000000-00f067aa0ba902b7-01")
        .clear_traceparent();
    assert!(matches!(
        client.get_payment_with(UNKNOWN_ID, &options),
        Err(Error::NotFound(_))
    ));
}

#[test]
fn a_nul_in_a_call_option_is_refused() {
    let client = client();
    let options = CallOptions::new().traceparent(&format!("{TRACEPARENT}\0"));
    let error = client.get_payment_with(UNKNOWN_ID, &options).unwrap_err();
    assert_not_sent(&error);
    assert!(
        error.message().contains("traceparent") && error.message().contains("NUL"),
        "{error}"
    );
    let options = options.traceparent(TRACEPARENT);
    assert!(matches!(
        client.get_payment_with(UNKNOWN_ID, &options),
        Err(Error::NotFound(_))
    ));
    let options = options.tracestate("a=b\0");
    let error = client.get_payment_with(UNKNOWN_ID, &options).unwrap_err();
    assert!(error.message().contains("tracestate"), "{error}");
}

#[test]
fn call_options_check_reports_a_refused_value_early() {
    let client = client();
    let offer = new_offer();
    for options in [
        CallOptions::new().traceparent("00-not-a-traceparent"),
        CallOptions::new()
            .traceparent(TRACEPARENT)
            .tracestate("no equals sign"),
        CallOptions::new().timeout(Duration::from_secs(u64::MAX)),
        CallOptions::new().traceparent(&format!("{TRACEPARENT}\0")), // refused by the crate
    ] {
        let early = options.check().unwrap_err();
        assert_not_sent(&early);
        assert!(
            early.message().starts_with("call option ")
                || early.message().contains("NUL character"),
            "{early}"
        );
        // The very error the calls give.
        let viewed = client.get_payment_with(UNKNOWN_ID, &options).unwrap_err();
        let created = client
            .create_payment_with(&request(&offer, "invoice"), &options)
            .unwrap_err();
        assert_eq!(viewed, early);
        assert_eq!(created, early);
        // checked() gives it too, and the options are gone with it.
        assert_eq!(options.checked().unwrap_err(), early);
    }
    // Nothing was sent: the offer can still be paid.
    client
        .create_payment(&request(&offer, "invoice"))
        .expect("create");
}

#[test]
fn call_options_check_accepts_valid_options() {
    fn build() -> Result<CallOptions, Error> {
        CallOptions::new()
            .timeout(Duration::from_secs(30))
            .traceparent(TRACEPARENT)
            .tracestate("rojo=00f067aa0ba902b7")
            .checked()
    }
    assert_eq!(CallOptions::new().check(), Ok(()));
    assert!(CallOptions::new().as_ptr().is_null(), "nothing allocated");
    let options = build().expect("valid options");
    assert_eq!(options.check(), Ok(()));
    let client = client();
    let id = id_of(&create(&client, "invoice"));
    assert_eq!(
        client
            .get_payment_with(&id, &options)
            .expect("view")
            .member_str("id"),
        Some(id.as_str())
    );
    // A refused value counts until set again; the check says so each time.
    let options = options.traceparent("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    assert_not_sent(&options.check().unwrap_err());
    let options = options.timeout(Duration::from_secs(5));
    assert_not_sent(&options.check().unwrap_err());
    let options = options.traceparent(TRACEPARENT);
    assert_eq!(options.check(), Ok(()));
    let options = options.tracestate("a=b\0");
    assert!(options
        .check()
        .unwrap_err()
        .message()
        .contains("tracestate"));
    assert_eq!(options.clear_tracestate().check(), Ok(()));
}

#[test]
fn the_raw_call_options_check() {
    use kasko::sys;
    use std::ptr;
    // SAFETY: the C API used by its contract; every result and the options freed.
    unsafe {
        let mut out = ptr::null_mut();
        assert_eq!(
            sys::kasko_call_options_check(ptr::null(), &mut out),
            sys::KASKO_ERR_INVALID_ARGUMENT
        );
        let refusal = Answer::from_raw(out).expect("a result for NULL options");
        assert!(
            refusal.message().unwrap_or("").contains("options"),
            "{refusal:?}"
        );
        assert_eq!(
            sys::kasko_call_options_check(ptr::null(), ptr::null_mut()),
            sys::KASKO_ERR_INVALID_ARGUMENT
        );
        let options = sys::kasko_call_options_new();
        assert!(!options.is_null());
        let mut out = 1usize as *mut sys::kasko_result; // overwritten with NULL
        assert_eq!(
            sys::kasko_call_options_check(options, &mut out),
            sys::KASKO_OK
        );
        assert!(out.is_null());
        assert_eq!(
            sys::kasko_call_options_check(options, ptr::null_mut()),
            sys::KASKO_OK
        );
        let _ = sys::kasko_call_options_set_timeout_ms(options, -1);
        let mut out = ptr::null_mut();
        assert_eq!(
            sys::kasko_call_options_check(options, &mut out),
            sys::KASKO_ERR_INVALID_ARGUMENT
        );
        let refusal = Answer::from_raw(out).expect("a result");
        assert_eq!(refusal.outcome(), Outcome::NotSent);
        assert_eq!(refusal.attempts(), 0);
        assert!(
            refusal.message().unwrap_or("").contains("timeout_ms"),
            "{refusal:?}"
        );
        sys::kasko_call_options_free(options);
    }
}

#[test]
fn valid_call_options_are_accepted() {
    let client = client();
    let options = CallOptions::new()
        .timeout(Duration::from_millis(30_000))
        .traceparent(TRACEPARENT)
        .tracestate("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    let created = client
        .create_payment_with(&request(&new_offer(), "invoice"), &options)
        .expect("create");
    let id = id_of(&created);
    let viewed = client.get_payment_with(&id, &options).expect("view");
    assert_eq!(viewed.member_str("id"), Some(id.as_str()));
    // The client's timeout again, and no options at all.
    let options = options.client_timeout();
    client.get_payment_with(&id, &options).expect("view");
    client
        .get_payment_with(&id, &CallOptions::default())
        .expect("view");
}

/// A server for one connection on loopback: it reads one request and
/// answers `response`, or (None) never answers and waits for the client to
/// hang up. The thread gives back the request's head.
fn one_shot_server(response: Option<String>) -> (String, JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let (head, _) = read_message(&mut stream);
        match response {
            Some(response) => stream.write_all(response.as_bytes()).unwrap(),
            None => {
                let mut rest = [0u8; 64];
                while matches!(stream.read(&mut rest), Ok(n) if n > 0) {}
            }
        }
        head
    });
    (url, server)
}

#[test]
fn call_options_go_out_as_headers() {
    let body = r#"{"status":"Not Found"}"#;
    let (url, server) = one_shot_server(Some(format!(
        "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         X-Request-Id: req_from_the_test\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )));
    let client = Client::new(&config_for(&url, true, "")).expect("a client");
    let options = CallOptions::new()
        .traceparent(TRACEPARENT)
        .tracestate("vendor=value");
    let error = client.get_payment_with(UNKNOWN_ID, &options).unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
    assert_eq!(error.request_id(), Some("req_from_the_test"));
    let head = server.join().unwrap().to_lowercase();
    assert!(
        head.starts_with(&format!("get /payments/{UNKNOWN_ID} ")),
        "{head}"
    );
    assert!(
        head.contains(&format!("\r\ntraceparent: {TRACEPARENT}\r\n")),
        "{head}"
    );
    assert!(head.contains("\r\ntracestate: vendor=value\r\n"), "{head}");
}

#[test]
fn a_call_timeout_is_the_calls_own() {
    let (url, server) = one_shot_server(None);
    let client = Client::new(&config_for(&url, true, r#","timeout_ms":60000"#)).expect("a client");
    let started = Instant::now();
    let error = client
        .get_payment_with(
            UNKNOWN_ID,
            &CallOptions::new().timeout(Duration::from_millis(300)),
        )
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(error, Error::Network(_)), "{error:?}");
    assert_eq!(error.http_status(), None);
    assert_eq!(
        error.outcome(),
        Outcome::Unknown,
        "sent, and no answer: {error:?}"
    );
    assert_eq!(error.attempts(), 1, "{error:?}");
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(20),
        "{elapsed:?}, not the client's 60 s"
    );
    drop(client);
    assert!(server.join().unwrap().starts_with("GET /payments/"));
}

#[test]
fn members_are_read_as_the_api_wrote_them() {
    let body = format!(
        r#"{{"object":"payment","id":"{UNKNOWN_ID}","status":"ok","note":"a\u0000b","esc":"\u00fc\ud83d\ude00 \"q\"","twice":1,"twice":2,"big":12345678901234567890,"neg":-42,"frac":1.5,"exp":1e3,"flag":true,"nested":{{"a":[1,2]}},"list":[null]}}"#
    );
    let (url, server) = one_shot_server(Some(format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )));
    let client = Client::new(&config_for(&url, true, "")).expect("a client");
    let answer = client
        .get_payment_with(UNKNOWN_ID, &CallOptions::new())
        .expect("a payment");
    server.join().unwrap();
    assert_eq!(answer.json(), body, "exactly as the API sent it");
    assert_eq!(answer.request_id(), None, "no X-Request-Id was sent");
    // A JSON \u0000 is kept: the length, not the C string, tells the value.
    assert_eq!(answer.member_str("note"), Some("a\0b"));
    assert_eq!(answer.member_str("esc"), Some("\u{fc}\u{1f600} \"q\""));
    // A name that appears twice has no one value.
    assert_eq!(answer.member_type("twice"), None);
    assert_eq!(answer.member_i64("twice"), None);
    assert_eq!(answer.member_json("twice"), None);
    // Integers only when they are integers within range; nothing rounded.
    assert_eq!(answer.member_i64("big"), None);
    assert_eq!(answer.member_f64("big"), Some(12345678901234567890.0));
    assert_eq!(answer.member_json("big"), Some("12345678901234567890"));
    assert_eq!(answer.member_i64("neg"), Some(-42));
    assert_eq!(answer.member_i64("frac"), None);
    assert_eq!(answer.member_f64("frac"), Some(1.5));
    assert_eq!(answer.member_i64("exp"), None);
    assert_eq!(answer.member_f64("exp"), Some(1000.0));
    assert_eq!(answer.member_json("exp"), Some("1e3"));
    assert_eq!(answer.member_bool("flag"), Some(true));
    assert_eq!(answer.member_type("nested"), Some(JsonType::Object));
    assert_eq!(answer.member_json("nested"), Some(r#"{"a":[1,2]}"#));
    assert_eq!(answer.member_type("list"), Some(JsonType::Array));
    assert_eq!(answer.member_json("list"), Some("[null]"));
    assert_eq!(answer.member_type("a"), None, "only top-level members");
}

// ---- a typed configuration: kasko::Config -------------------------------------------

fn secret() -> String {
    env("KASKO_SANDBOX_SECRET_KEY", Some("sk_test_sandbox"))
}

/// The sandbox's configuration, set key by key: no JSON written.
fn typed_config_for(base_url: &str, with_secret: bool) -> Config {
    let config = Config::new()
        .public_key(&env("KASKO_SANDBOX_PUBLIC_KEY", Some("pk_test_sandbox")))
        .base_url(base_url)
        .max_retries(0);
    if with_secret {
        config.secret_key(&secret())
    } else {
        config
    }
}

fn typed_config() -> Config {
    typed_config_for(&sandbox_url(), true)
}

/// The refusal of a client made from `config`: refused before any I/O,
/// with the library's message, which never holds the secret key.
fn refused(config: &Config) -> Error {
    let error = Client::from_config(config).expect_err("refused");
    assert_not_sent(&error);
    assert!(
        !error.message().contains(&secret()) && !error.json().contains(&secret()),
        "quotes the secret key: {error:?}"
    );
    error
}

#[test]
fn a_client_from_a_config_creates_and_views_a_payment() {
    let config = typed_config()
        .timeout(Duration::from_secs(30))
        .connect_timeout(Duration::from_millis(5000))
        .max_retries(1)
        .proxy("")
        .user_agent("rust-test/1 (\"quoted\" \\ text)");
    let client = Client::from_config(&config).expect("a client");
    let created = create(&client, "invoice");
    let id = id_of(&created);
    assert_eq!(created.member_str("object"), Some("payment"));
    let viewed = client
        .get_payment_with(&id, &CallOptions::new())
        .expect("view");
    assert_eq!(id_of(&viewed), id);
    assert_eq!(viewed.member_str("status"), Some("ok"));
    assert_eq!(viewed.member_type("policy_id"), Some(JsonType::String));

    // One Config makes several clients, and may go before them.
    let second = Client::from_config(&config).expect("a second client");
    drop(config);
    assert_eq!(
        id_of(&second.get_payment_with(&id, &CallOptions::new()).unwrap()),
        id
    );

    // Without the secret key: the restricted object, and views refused.
    let public_only = Client::from_config(&typed_config_for(&sandbox_url(), false)).unwrap();
    let restricted = create(&public_only, "invoice");
    assert_eq!(restricted.member_type("policy_id"), None, "{restricted}");
    let error = public_only.get_payment(&id_of(&restricted)).unwrap_err();
    assert!(matches!(error, Error::Unauthorized(_)), "{error:?}");
}

#[test]
fn a_config_value_the_library_refuses_is_invalid_argument_with_its_message() {
    let error = refused(&typed_config().max_retries(11));
    assert!(matches!(error, Error::InvalidArgument(_)));
    assert!(
        error.message().contains("max_retries") && error.message().contains("0 to 10"),
        "{error}"
    );
    // The very message of the JSON configuration with the same value.
    let json = Client::new(r#"{"public_key":"pk_test_abc","max_retries":11}"#).unwrap_err();
    assert_eq!(json.message(), error.message());

    let error = refused(&typed_config().public_key("pk_test_has space"));
    assert!(
        error.message().contains("public_key") && !error.message().contains("has space"),
        "{error}"
    );
    let error = refused(&typed_config().public_key(&secret()));
    assert!(error.message().contains("public_key"), "{error}");
    let error = refused(&typed_config().secret_key("sk_test_Secret\"With\\Quote"));
    assert!(
        error.message().contains("secret_key")
            && !error.message().contains("Secret")
            && !error.json().contains("Secret"),
        "{error:?}"
    );
    let error = refused(&typed_config().public_key("pk_live_abc"));
    assert!(error.message().contains("live"), "{error}");
    let error = refused(&typed_config().base_url("http://example.com"));
    assert!(error.message().contains("base_url"), "{error}");
    let error = refused(&typed_config().ca_bundle("/nonexistent/ca.pem"));
    assert!(error.message().contains("ca_bundle"), "{error}");
    let error = refused(&typed_config().proxy("ftp://proxy"));
    assert!(error.message().contains("proxy"), "{error}");
    let error = refused(&typed_config().user_agent("a\nb"));
    assert!(error.message().contains("user_agent"), "{error}");
    let error = refused(&Config::new());
    assert!(error.message().contains("public_key"), "{error}");
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let path = std::ffi::OsStr::from_bytes(b"/tmp/\xff.pem");
        let error = refused(&typed_config().ca_bundle(path));
        assert!(error.message().contains("ca_bundle"), "{error}");
    }
}

#[test]
fn a_nul_in_a_config_value_is_refused_until_the_key_is_set_again() {
    let config = typed_config().secret_key(&format!("{}\0tail", secret()));
    let error = refused(&config);
    assert_eq!(
        error.message(),
        "configuration key \"secret_key\" contains a NUL character"
    );
    assert!(!error.json().contains("tail"), "{error:?}");
    let config = config.secret_key(&secret());
    let client = Client::from_config(&config).expect("set again, accepted");
    create(&client, "invoice");
    // The library's refusals are forgotten the same way.
    let config = config.max_retries(11);
    refused(&config);
    assert!(Client::from_config(&config.max_retries(10)).is_ok());
}

#[test]
fn config_timeouts_are_durations_sent_as_whole_milliseconds() {
    let message = |config: Config| refused(&config).message().to_string();
    let text = message(typed_config().timeout(Duration::from_millis(3_600_001)));
    assert!(
        text.contains("timeout_ms") && text.contains("got 3600001"),
        "{text}"
    );
    let text = message(typed_config().timeout(Duration::from_nanos(3_600_000_000_001)));
    assert!(text.contains("got 3600001"), "rounded up: {text}");
    let text = message(typed_config().timeout(Duration::from_secs_f64(3600.0005)));
    assert!(text.contains("got 3600001"), "{text}");
    let text = message(typed_config().timeout(Duration::ZERO));
    assert!(
        text.contains("timeout_ms") && text.contains("got 0"),
        "{text}"
    );
    let text = message(typed_config().timeout(Duration::MAX));
    assert!(
        text.contains(&format!("got {}", std::os::raw::c_long::MAX)),
        "clamped: {text}"
    );
    let text = message(typed_config().connect_timeout(Duration::from_secs(61 * 60)));
    assert!(
        text.contains("connect_timeout_ms") && text.contains("got 3660000"),
        "{text}"
    );
    // The ends of the range are accepted.
    for (timeout, connect) in [
        (Duration::from_secs(3600), Duration::from_secs(3600)),
        (Duration::from_nanos(1), Duration::from_micros(1)),
    ] {
        let config = typed_config().timeout(timeout).connect_timeout(connect);
        Client::from_config(&config).unwrap_or_else(|e| panic!("{timeout:?}: {e}"));
    }
}

#[test]
fn a_config_timeout_ends_a_call_that_gets_no_answer() {
    let (url, server) = one_shot_server(None);
    let config = typed_config_for(&url, true).timeout(Duration::from_millis(300));
    let client = Client::from_config(&config).expect("a client");
    let started = Instant::now();
    let error = client.get_payment(UNKNOWN_ID).unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(error, Error::Network(_)), "{error:?}");
    assert_eq!(error.attempts(), 1, "max_retries 0: {error:?}");
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(20),
        "{elapsed:?}, not the default 60 s"
    );
    drop(client);
    server.join().unwrap();
}

#[test]
fn a_config_user_agent_goes_out_as_given() {
    let body = r#"{"status":"Not Found"}"#;
    let (url, server) = one_shot_server(Some(format!(
        "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )));
    let agent = r#"rust-test/1 ("quoted" \ text)"#;
    let client = Client::from_config(&typed_config_for(&url, true).user_agent(agent)).unwrap();
    let error = client.get_payment(UNKNOWN_ID).unwrap_err();
    assert!(matches!(error, Error::NotFound(_)), "{error:?}");
    let head = server.join().unwrap();
    assert!(
        head.to_lowercase()
            .contains(&format!("\r\nuser-agent: {}", agent.to_lowercase())),
        "{head}"
    );
}

#[test]
fn config_keys_are_exactly_the_librarys() {
    // The library lists its keys when it refuses an unknown one.
    let raw = unsafe { sys::kasko_config_new() };
    assert!(!raw.is_null());
    let status =
        unsafe { sys::kasko_config_set_string(raw, c"no_such_key".as_ptr(), c"x".as_ptr()) };
    assert_eq!(status, sys::KASKO_ERR_INVALID_ARGUMENT);
    let mut handle = std::ptr::null_mut();
    let mut out = std::ptr::null_mut();
    let status = unsafe { sys::kasko_client_new_from_config(raw, &mut handle, &mut out) };
    unsafe { sys::kasko_config_free(raw) };
    assert_eq!(status, sys::KASKO_ERR_INVALID_ARGUMENT);
    assert!(handle.is_null());
    let refusal = unsafe { Answer::from_raw(out) }.expect("a result");
    let message = refusal.message().expect("a message");
    let (_, known) = message.split_once("known keys: ").expect(message);
    assert_eq!(
        known.split(", ").collect::<Vec<_>>(),
        config_key::ALL,
        "{message}"
    );
}
