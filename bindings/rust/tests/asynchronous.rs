//! The asynchronous calls (`Client::*_async`, libkasko 1.4) against a
//! running kasko-sandbox started with `--faults` (`KASKO_SANDBOX_URL`;
//! `scripts/check-bindings rust` starts one). The futures are polled by the
//! two tiny executors below, std only (`thread::park` and a `Waker`): the
//! crate needs no runtime. No test prints a key, an offer's JSON or a
//! payment token.
mod common;
use common::env;
use std::future::Future;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use kasko::{
    Answer, CallFuture, CallOptions, Client, Config, Error, Event, EventKind, Offer, Outcome,
    PaymentRequest, Policy, Quote,
};

const TRAVEL_QUOTE: &str = r#"{"item_id":"ins_sandbox_travel","subscription_plan_id":"pp_sandbox_single","integration_id":"in_sandbox_travel","data":{"trip_cost":100000,"policy_start_date":"2027-01-15"}}"#;
const UNKNOWN_ID: &str = "t00000000000000000000000000000000";
const UNKNOWN_POLICY: &str = "tpol_0000000000000000000000000000";
/// How long any test waits for anything before it fails.
const PATIENCE: Duration = Duration::from_secs(30);

// ---- two tiny executors ------------------------------------------------------------

/// Wakes a parked thread.
struct ThreadWaker {
    thread: Thread,
    woken: AtomicBool,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }
}

/// Polls `future` on this thread, parking between wakes, until it is ready.
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let state = Arc::new(ThreadWaker {
        thread: thread::current(),
        woken: AtomicBool::new(false),
    });
    let waker = Waker::from(Arc::clone(&state));
    let mut cx = Context::from_waker(&waker);
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        while !state.woken.swap(false, Ordering::Acquire) {
            let now = Instant::now();
            assert!(now < deadline, "not ready within {PATIENCE:?}");
            thread::park_timeout(deadline - now);
        }
    }
}

/// Polls one future once, with a waker that does nothing.
fn poll_once<F: Future + Unpin>(future: &mut F) -> Poll<F::Output> {
    Pin::new(future).poll(&mut Context::from_waker(Waker::noop()))
}

/// Which of `join_all`'s futures were woken.
struct ReadyQueue {
    woken: Mutex<Vec<usize>>,
    wakes: AtomicUsize,
    thread: Thread,
}

struct TaskWaker {
    index: usize,
    queue: Arc<ReadyQueue>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.queue.wakes.fetch_add(1, Ordering::Relaxed);
        self.queue.woken.lock().unwrap().push(self.index);
        self.queue.thread.unpark();
    }
}

/// Polls every future on this one thread, each with its own waker, and
/// only those woken: their outputs in order, and how many polls it took.
fn join_all<F: Future + Unpin>(mut futures: Vec<F>) -> (Vec<F::Output>, usize) {
    let queue = Arc::new(ReadyQueue {
        woken: Mutex::new((0..futures.len()).collect()),
        wakes: AtomicUsize::new(0),
        thread: thread::current(),
    });
    let wakers: Vec<Waker> = (0..futures.len())
        .map(|index| {
            Waker::from(Arc::new(TaskWaker {
                index,
                queue: Arc::clone(&queue),
            }))
        })
        .collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    let mut remaining = futures.len();
    let mut polls = 0;
    let deadline = Instant::now() + PATIENCE;
    while remaining > 0 {
        let woken = std::mem::take(&mut *queue.woken.lock().unwrap());
        if woken.is_empty() {
            let now = Instant::now();
            assert!(
                now < deadline,
                "{remaining} futures not ready within {PATIENCE:?}"
            );
            thread::park_timeout(deadline - now);
            continue;
        }
        for index in woken {
            if outputs[index].is_some() {
                continue;
            }
            polls += 1;
            let mut cx = Context::from_waker(&wakers[index]);
            if let Poll::Ready(output) = Pin::new(&mut futures[index]).poll(&mut cx) {
                outputs[index] = Some(output);
                remaining -= 1;
            }
        }
    }
    (outputs.into_iter().map(Option::unwrap).collect(), polls)
}

// ---- the sandbox ---------------------------------------------------------------------

/// One hand-written HTTP/1.1 request to the sandbox: the status line and
/// the body of the answer.
fn http(method: &str, path: &str, body: &str) -> (String, String) {
    let url = env("KASKO_SANDBOX_URL", None);
    let authority = url.strip_prefix("http://").expect("an http:// sandbox URL");
    let authority = authority.split('/').next().unwrap();
    let mut stream = TcpStream::connect(authority).expect("connect to the sandbox");
    stream.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .expect("the sandbox's answer");
    let (head, body) = answer.split_once("\r\n\r\n").expect("a complete answer");
    (
        head.lines().next().unwrap_or("").to_string(),
        body.to_string(),
    )
}

/// A new offer of the sandbox's: (policy id, payment token). The token is
/// never printed.
fn new_offer() -> (String, String) {
    let (status, body) = http("POST", "/__sandbox/offers", "{}");
    assert!(status.starts_with("HTTP/1.1 201"), "offer: {status}");
    // Exactly {"policy_id":"tpol_<hex>","token":"ptok_<hex>"}.
    match body.split('"').collect::<Vec<_>>().as_slice() {
        ["{", "policy_id", ":", policy_id, ",", "token", ":", token, "}"] => {
            (policy_id.to_string(), token.to_string())
        }
        _ => panic!("an offer of another shape ({} bytes)", body.len()),
    }
}

/// Arms a sandbox fault (docs/sandbox-faults.md) for the next `times`
/// requests whose fault key is `key`.
fn arm_fault(key: &str, fault: &str, times: u32) {
    let (status, body) = http(
        "POST",
        "/__sandbox/faults",
        &format!(r#"{{"key":"{key}","fault":{fault},"times":{times}}}"#),
    );
    assert!(
        status.starts_with("HTTP/1.1 201"),
        "arming {fault} on {key}: {status} {body} (is the sandbox running with --faults?)"
    );
}

/// How many requests with fault key `key` the sandbox has seen.
fn attempts_seen(key: &str) -> u64 {
    let (status, body) = http("GET", &format!("/__sandbox/attempts/{key}"), "");
    assert!(
        status.starts_with("HTTP/1.1 200"),
        "attempts: {status} {body}"
    );
    body.split_once(r#""attempts":"#)
        .and_then(|(_, rest)| rest.trim_end_matches(['}', '\n', ' ']).parse().ok())
        .unwrap_or_else(|| panic!("no attempts in {body}"))
}

/// Waits until the sandbox has seen `n` requests with fault key `key`.
fn wait_for_attempts(key: &str, n: u64) {
    let deadline = Instant::now() + PATIENCE;
    while attempts_seen(key) < n {
        assert!(
            Instant::now() < deadline,
            "the sandbox never saw {n} requests for {key}"
        );
        thread::sleep(Duration::from_millis(10));
    }
}

fn client_with(secret: bool, retries: u32) -> Client {
    client_at(&env("KASKO_SANDBOX_URL", None), secret, retries)
}

fn client_at(base_url: &str, secret: bool, retries: u32) -> Client {
    let mut config = Config::new()
        .public_key(&env("KASKO_SANDBOX_PUBLIC_KEY", Some("pk_test_sandbox")))
        .base_url(base_url)
        .max_retries(retries);
    if secret {
        config = config.secret_key(&env("KASKO_SANDBOX_SECRET_KEY", Some("sk_test_sandbox")));
    }
    Client::from_config(&config).expect("a client")
}

fn client() -> Client {
    client_with(true, 0)
}

fn offer_request(quote_token: &str) -> String {
    format!(
        r#"{{"quote_token":"{quote_token}","first_name":"Ada","last_name":"Lovelace","email":"ada@example.com","language":"de"}}"#
    )
}

/// A new payment, made with a blocking call: its id.
fn new_payment(client: &Client) -> String {
    let (policy_id, token) = new_offer();
    let request = PaymentRequest::new(&token, "invoice", "invoice", &policy_id);
    match client.create_payment_with(&request, &CallOptions::new()) {
        Ok(created) => created.member_str("id").expect("an id").to_string(),
        Err(e) => panic!("create: {e}"),
    }
}

/// The error of a call that should have failed (never prints a success,
/// which may hold a token).
fn expect_error<T>(result: Result<T, Error>, what: &str) -> Error {
    match result {
        Ok(_) => panic!("{what}: succeeded"),
        Err(error) => error,
    }
}

/// A loopback URL nothing listens on: a port just bound, then closed.
fn closed_loopback_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// Asserts how a call ended: the status's name (the `Error` variant),
/// outcome, HTTP status and attempts.
fn assert_ended(
    error: &Error,
    code: &str,
    outcome: Outcome,
    http_status: Option<u16>,
    attempts: u32,
    what: &str,
) {
    assert_eq!(error.code(), code, "{what}: {error}");
    assert_eq!(error.outcome(), outcome, "{what}: {error}");
    assert_eq!(error.http_status(), http_status, "{what}: {error}");
    assert_eq!(error.attempts(), attempts, "{what}: {error}");
}

/// Asserts that a future ended as the blocking call did for the same
/// situation: the same variant, outcome, HTTP status, attempts,
/// retryability, pending payment, and a request id if and only if the
/// blocking call had one (as Tests/C/test_async.c's check_same).
fn assert_as_blocking(future: &Error, blocking: &Error, what: &str) {
    assert_eq!(
        std::mem::discriminant(future),
        std::mem::discriminant(blocking),
        "{what}: async {future}, blocking {blocking}"
    );
    assert_eq!(future.code(), blocking.code(), "{what}");
    assert_eq!(future.outcome(), blocking.outcome(), "{what}: outcome");
    assert_eq!(future.http_status(), blocking.http_status(), "{what}: http");
    assert_eq!(future.attempts(), blocking.attempts(), "{what}: attempts");
    assert_eq!(
        future.retryable(),
        blocking.retryable(),
        "{what}: retryable"
    );
    assert_eq!(
        future.pending_payment_id(),
        blocking.pending_payment_id(),
        "{what}: pending payment"
    );
    assert_eq!(
        future.request_id().is_some(),
        blocking.request_id().is_some(),
        "{what}: request id presence"
    );
}

fn assert_refused_before_io(error: &Error, what: &str) {
    assert!(
        matches!(error, Error::InvalidArgument(_)),
        "{what}: {error}"
    );
    assert_eq!(error.outcome(), Outcome::NotSent, "{what}");
    assert_eq!(error.attempts(), 0, "{what}");
    assert_eq!(error.http_status(), None, "{what}");
}

/// The call ends an event hook saw: (operation, code, outcome).
/// (operation, code, outcome) of each call end.
type CallEnds = Arc<Mutex<Vec<(String, &'static str, Outcome)>>>;

fn call_end_recorder(client: &Client) -> CallEnds {
    let ends = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&ends);
    client
        .set_event_hook(Some(Box::new(move |event: &Event<'_>| {
            if event.kind() == EventKind::CallEnd {
                kept.lock().unwrap().push((
                    event.operation().to_owned(),
                    event.code(),
                    event.outcome(),
                ));
            }
        })))
        .expect("a hook");
    ends
}

// ---- the tests ------------------------------------------------------------------------

#[test]
fn futures_are_send_sync_unpin_and_static() {
    fn check<T: Future + Send + Sync + Unpin + 'static>(_: &T) {}
    let client = client();
    let future = client.get_payment_async(UNKNOWN_ID);
    check(&future);
    check(&client.create_payment_async_with(
        &PaymentRequest::new("ptok_x", "invoice", "invoice", UNKNOWN_POLICY),
        &CallOptions::new(),
    ));
    check(&client.create_quote_async(TRAVEL_QUOTE));
    check(&client.get_policy_async(UNKNOWN_POLICY));
    // Made here, awaited on another thread, the client still here.
    let error = thread::spawn(move || expect_error(block_on(future), "unknown payment"))
        .join()
        .unwrap();
    assert!(matches!(error, Error::NotFound(_)), "{error}");
}

#[test]
fn every_call_succeeds_through_its_future() {
    let client = client();
    let options = CallOptions::new().timeout(Duration::from_secs(10));

    let quote: Quote = block_on(client.create_quote_async(TRAVEL_QUOTE)).expect("a quote");
    assert!(quote.token().starts_with("qtok_"), "{quote:?}");
    assert_eq!(
        quote.gross_payment_amount(),
        Some(4000),
        "max(500, 100000*4/100)"
    );
    assert_eq!(quote.answer().http_status(), Some(200));
    let again = block_on(client.create_quote_async_with(TRAVEL_QUOTE, &options)).expect("a quote");
    assert_eq!(again.token(), quote.token(), "deterministic");

    let offer: Offer =
        block_on(client.create_offer_async(&offer_request(quote.token()))).expect("an offer");
    assert_eq!(offer.http_status(), Some(201));
    assert!(offer.id().starts_with("tpol_"), "{offer:?}");
    let token = offer.payment_token().expect("a payment token").to_string();
    assert!(token.starts_with("ptok_"), "{offer:?}");
    let second = block_on(client.create_offer_async_with(&offer_request(quote.token()), &options))
        .expect("another offer");
    assert_ne!(second.id(), offer.id());

    let viewed = block_on(client.get_offer_async(offer.id())).expect("an offer view");
    assert_eq!((viewed.id(), viewed.status()), (offer.id(), Some("ready")));
    assert!(
        viewed.payment_token() == Some(token.as_str()),
        "the same token"
    );
    let viewed =
        block_on(client.get_offer_async_with(offer.id(), &options)).expect("an offer view");
    assert_eq!(viewed.http_status(), Some(200));

    let request = PaymentRequest::new(&token, "invoice", "invoice", offer.id());
    let created: Answer = match block_on(client.create_payment_async_with(&request, &options)) {
        Ok(created) => created,
        Err(e) => panic!("create: {e}"),
    };
    assert_eq!(created.http_status(), Some(200));
    assert_eq!(created.member_str("object"), Some("payment"));
    assert_eq!(created.attempts(), 1);
    assert!(created.request_id().is_some());
    let id = created.member_str("id").expect("an id").to_string();

    let json: String = block_on(client.get_payment_async(&id)).expect("a payment view");
    assert!(
        json.contains(&format!(r#""id":"{id}""#)),
        "the payment viewed"
    );
    let payment = block_on(client.get_payment_async_with(&id, &options)).expect("a payment view");
    assert_eq!(
        (payment.http_status(), payment.member_str("id")),
        (Some(200), Some(id.as_str()))
    );
    assert_eq!(payment.outcome(), Outcome::Succeeded);

    let policy: Policy = block_on(client.get_policy_async(offer.id())).expect("a policy view");
    assert_eq!(policy.id(), offer.id());
    assert!(
        policy.etag().is_some() && policy.last_modified().is_some(),
        "{policy:?}"
    );
    let policy =
        block_on(client.get_policy_async_with(offer.id(), &options)).expect("a policy view");
    assert_eq!(policy.answer().http_status(), Some(200));

    // The plain create: the payment object as JSON text, as create_payment gives it.
    let (policy_id, token) = new_offer();
    let json = block_on(client.create_payment_async(&PaymentRequest::new(
        &token, "invoice", "invoice", &policy_id,
    )))
    .expect("a payment");
    assert!(json.contains(r#""object":"payment""#), "a payment object");
}

#[test]
fn error_statuses_come_through_the_future() {
    let client = client();
    let id = new_payment(&client);

    let error = expect_error(
        block_on(client.get_payment_async(UNKNOWN_ID)),
        "unknown payment",
    );
    assert!(matches!(error, Error::NotFound(_)), "{error}");
    assert_eq!(
        (error.http_status(), error.outcome()),
        (Some(404), Outcome::Rejected)
    );
    assert!(error.request_id().is_some());
    let error = expect_error(
        block_on(client.get_policy_async(UNKNOWN_POLICY)),
        "unknown policy",
    );
    assert!(matches!(error, Error::NotFound(_)), "{error}");
    let error = expect_error(
        block_on(client.get_offer_async(UNKNOWN_POLICY)),
        "unknown offer",
    );
    assert!(matches!(error, Error::NotFound(_)), "{error}");

    // Views need the secret key.
    let public_only = client_with(false, 0);
    let error = expect_error(
        block_on(public_only.get_payment_async(&id)),
        "view without secret",
    );
    assert!(matches!(error, Error::Unauthorized(_)), "{error}");
    assert_eq!(error.http_status(), Some(401));
    let error = expect_error(
        block_on(public_only.get_policy_async(UNKNOWN_POLICY)),
        "policy view without secret",
    );
    assert!(matches!(error, Error::Unauthorized(_)), "{error}");

    // A 400 with the server's errors.
    let error = expect_error(
        block_on(client.create_quote_async(
            r#"{"item_id":"ins_sandbox_travel","subscription_plan_id":"pp_sandbox_single","integration_id":"in_sandbox_travel","data":{"trip_cost":0}}"#,
        )),
        "a bad quote",
    );
    assert!(matches!(error, Error::BadRequest(_)), "{error}");
    assert_eq!(
        (error.http_status(), error.outcome()),
        (Some(400), Outcome::Rejected)
    );
    let errors = error
        .answer()
        .member_json("errors")
        .expect("an errors array");
    assert!(errors.contains("\"trip_cost\""), "{errors}");
    // Another client's 404 on the checkout routes.
    let error = expect_error(
        block_on(client.create_quote_async(
            r#"{"item_id":"ins_nope","subscription_plan_id":"pp_sandbox_single","integration_id":"in_sandbox_travel","data":{}}"#,
        )),
        "an unknown product",
    );
    assert!(matches!(error, Error::NotFound(_)), "{error}");
}

#[test]
fn a_pending_payment_is_422_through_the_future() {
    let client = client_with(true, 2);
    let (policy_id, token) = new_offer();
    let deferred = PaymentRequest::new(&token, "deferred", "deferred", &policy_id);
    let first = match block_on(client.create_payment_async_with(&deferred, &CallOptions::new())) {
        Ok(created) => created,
        Err(e) => panic!("the deferred create: {e}"),
    };
    assert_eq!((first.outcome(), first.attempts()), (Outcome::Succeeded, 1));
    assert_eq!(first.member_str("status"), Some("pending"), "deferred");
    let pending = first.member_str("id").expect("an id").to_string();

    let error = expect_error(
        block_on(client.create_payment_async_with(&deferred, &CallOptions::new())),
        "a second create",
    );
    assert!(matches!(error, Error::PendingPayment(_)), "{error}");
    assert_ended(
        &error,
        "KASKO_ERR_PENDING_PAYMENT",
        Outcome::Rejected,
        Some(422),
        1,
        "async 422",
    );
    assert_eq!(error.pending_payment_id(), Some(pending.as_str()));
    assert!(!error.retryable(), "{error}");
    let blocking = expect_error(
        client.create_payment_with(&deferred, &CallOptions::new()),
        "blocking 422",
    );
    assert_as_blocking(&error, &blocking, "422");
    // The plain future gives the same.
    let plain = expect_error(
        block_on(client.create_payment_async(&deferred)),
        "plain 422",
    );
    assert_as_blocking(&plain, &blocking, "plain 422");
}

#[test]
fn rate_limits_come_through_the_future() {
    let client = client_with(true, 2);
    // A view: retried max_retries times, then the last 429 is the answer.
    let id = new_payment(&client);
    arm_fault(&id, r#"{"status":429,"retry_after":0}"#, 6);
    let error = expect_error(block_on(client.get_payment_async(&id)), "async 429 view");
    assert!(matches!(error, Error::RateLimited(_)), "{error}");
    assert_ended(
        &error,
        "KASKO_ERR_RATE_LIMITED",
        Outcome::Rejected,
        Some(429),
        3,
        "async 429 view",
    );
    assert_eq!(attempts_seen(&id), 3, "1 + 2 retries");
    let blocking = expect_error(
        client.get_payment_with(&id, &CallOptions::new()),
        "blocking 429 view",
    );
    assert_as_blocking(&error, &blocking, "429 view");
    assert_eq!(attempts_seen(&id), 6, "3 + 3 requests");

    // A create: sent once, never retried, and made no payment.
    let (policy_id, token) = new_offer();
    let request = PaymentRequest::new(&token, "invoice", "invoice", &policy_id);
    arm_fault(&policy_id, r#"{"status":429,"retry_after":0}"#, 2);
    let error = expect_error(
        block_on(client.create_payment_async_with(&request, &CallOptions::new())),
        "async 429 create",
    );
    assert!(matches!(error, Error::RateLimited(_)), "{error}");
    assert_ended(
        &error,
        "KASKO_ERR_RATE_LIMITED",
        Outcome::Rejected,
        Some(429),
        1,
        "async 429 create",
    );
    assert_eq!(
        attempts_seen(&policy_id),
        1,
        "a rate-limited create is sent once"
    );
    let blocking = expect_error(
        client.create_payment_with(&request, &CallOptions::new()),
        "blocking 429 create",
    );
    assert_as_blocking(&error, &blocking, "429 create");
    assert_eq!(attempts_seen(&policy_id), 2);
}

#[test]
fn server_errors_come_through_the_future() {
    let client = client_with(true, 2);
    // 500: not retried, and what it did is unknown.
    let broken = new_payment(&client);
    arm_fault(&broken, r#"{"status":500}"#, 2);
    let error = expect_error(
        block_on(client.get_payment_async(&broken)),
        "async 500 view",
    );
    assert!(matches!(error, Error::Server(_)), "{error}");
    assert_ended(
        &error,
        "KASKO_ERR_SERVER",
        Outcome::Unknown,
        Some(500),
        1,
        "async 500 view",
    );
    let blocking = expect_error(
        client.get_payment_with(&broken, &CallOptions::new()),
        "blocking 500 view",
    );
    assert_as_blocking(&error, &blocking, "500 view");
    assert_eq!(attempts_seen(&broken), 2, "neither retried");

    // 503 on a view: retried, then the last 503 is the answer.
    let down = new_payment(&client);
    arm_fault(&down, r#"{"status":503,"retry_after":0}"#, 6);
    let error = expect_error(
        block_on(client.get_payment_async_with(&down, &CallOptions::new())),
        "async 503 view",
    );
    assert!(matches!(error, Error::Server(_)), "{error}");
    assert_ended(
        &error,
        "KASKO_ERR_SERVER",
        Outcome::Unknown,
        Some(503),
        3,
        "async 503 view",
    );
    let blocking = expect_error(
        client.get_payment_with(&down, &CallOptions::new()),
        "blocking 503 view",
    );
    assert_as_blocking(&error, &blocking, "503 view");

    // 503 on a create: sent once, outcome unknown.
    let (policy_id, token) = new_offer();
    let request = PaymentRequest::new(&token, "invoice", "invoice", &policy_id);
    arm_fault(&policy_id, r#"{"status":503,"retry_after":0}"#, 2);
    let error = expect_error(
        block_on(client.create_payment_async_with(&request, &CallOptions::new())),
        "async 503 create",
    );
    assert!(matches!(error, Error::Server(_)), "{error}");
    assert_ended(
        &error,
        "KASKO_ERR_SERVER",
        Outcome::Unknown,
        Some(503),
        1,
        "async 503 create",
    );
    assert_eq!(attempts_seen(&policy_id), 1, "a create's 503 is sent once");
    let blocking = expect_error(
        client.create_payment_with(&request, &CallOptions::new()),
        "blocking 503 create",
    );
    assert_as_blocking(&error, &blocking, "503 create");
    assert_eq!(attempts_seen(&policy_id), 2);
}

#[test]
fn network_failures_come_through_the_future() {
    // Connection refused: nothing sent, views and creates alike.
    let nowhere = client_at(&closed_loopback_url(), true, 0);
    let (policy_id, token) = new_offer();
    let request = PaymentRequest::new(&token, "invoice", "invoice", &policy_id);
    let error = expect_error(
        block_on(nowhere.get_payment_async(UNKNOWN_ID)),
        "refused view",
    );
    assert!(matches!(error, Error::Network(_)), "{error}");
    assert_ended(
        &error,
        "KASKO_ERR_NETWORK",
        Outcome::NotSent,
        None,
        1,
        "refused view",
    );
    let blocking = expect_error(
        nowhere.get_payment_with(UNKNOWN_ID, &CallOptions::new()),
        "blocking refused view",
    );
    assert_as_blocking(&error, &blocking, "refused view");
    let error = expect_error(
        block_on(nowhere.create_payment_async_with(&request, &CallOptions::new())),
        "refused create",
    );
    assert!(matches!(error, Error::Network(_)), "{error}");
    assert_ended(
        &error,
        "KASKO_ERR_NETWORK",
        Outcome::NotSent,
        None,
        1,
        "refused create",
    );
    let blocking = expect_error(
        nowhere.create_payment_with(&request, &CallOptions::new()),
        "blocking refused create",
    );
    assert_as_blocking(&error, &blocking, "refused create");
    let error = expect_error(
        block_on(nowhere.create_quote_async(TRAVEL_QUOTE)),
        "refused quote",
    );
    assert!(matches!(error, Error::Network(_)), "{error}");
    assert_ended(
        &error,
        "KASKO_ERR_NETWORK",
        Outcome::NotSent,
        None,
        1,
        "refused quote",
    );
    assert_eq!(attempts_seen(&policy_id), 0, "nothing reached the sandbox");

    // A create dropped after its body was read: carried out, or not.
    let client = client();
    arm_fault(&policy_id, r#"{"drop":"after_body"}"#, 2);
    let error = expect_error(
        block_on(client.create_payment_async_with(&request, &CallOptions::new())),
        "a dropped create",
    );
    assert!(matches!(error, Error::Network(_)), "{error}");
    assert_ended(
        &error,
        "KASKO_ERR_NETWORK",
        Outcome::Unknown,
        None,
        1,
        "a dropped create",
    );
    assert_eq!(attempts_seen(&policy_id), 1, "sent once");
    let blocking = expect_error(
        client.create_payment_with(&request, &CallOptions::new()),
        "a blocking dropped create",
    );
    assert_as_blocking(&error, &blocking, "dropped create");
    assert_eq!(attempts_seen(&policy_id), 2);

    // The per-call timeout of the options, on a held view: unknown.
    let slow = new_payment(&client);
    arm_fault(&slow, r#"{"delay_ms":3000}"#, 2);
    let options = CallOptions::new().timeout(Duration::from_millis(300));
    let started = Instant::now();
    let error = expect_error(
        block_on(client.get_payment_async_with(&slow, &options)),
        "a timed-out view",
    );
    let waited = started.elapsed();
    assert!(matches!(error, Error::Network(_)), "{error}");
    assert_ended(
        &error,
        "KASKO_ERR_NETWORK",
        Outcome::Unknown,
        None,
        1,
        "a timed-out view",
    );
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_millis(2500),
        "ended by the 300 ms timeout, not the 3 s delay: {waited:?}"
    );
    let started = Instant::now();
    let blocking = expect_error(
        client.get_payment_with(&slow, &options),
        "a blocking timed-out view",
    );
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "{:?}",
        started.elapsed()
    );
    assert_as_blocking(&error, &blocking, "timed-out view");
}

#[test]
fn invalid_responses_come_through_the_future() {
    let client = client_with(true, 2);
    for (fault, what) in [
        (r#"{"body":"non_json"}"#, "a 200 that is not JSON"),
        (r#"{"body":"not_payment"}"#, "JSON that is not a payment"),
    ] {
        let id = new_payment(&client);
        arm_fault(&id, fault, 2);
        let error = expect_error(block_on(client.get_payment_async(&id)), what);
        assert!(
            matches!(error, Error::InvalidResponse(_)),
            "{what}: {error}"
        );
        assert_ended(
            &error,
            "KASKO_ERR_INVALID_RESPONSE",
            Outcome::Unknown,
            Some(200),
            1,
            what,
        );
        let blocking = expect_error(client.get_payment_with(&id, &CallOptions::new()), what);
        assert_as_blocking(&error, &blocking, what);
        assert_eq!(attempts_seen(&id), 2, "{what}: neither retried");
    }
    // A policy view's answer that is not JSON.
    let (policy_id, _token) = new_offer();
    arm_fault(&policy_id, r#"{"body":"non_json"}"#, 2);
    let error = expect_error(
        block_on(client.get_policy_async(&policy_id)),
        "a policy view",
    );
    assert!(matches!(error, Error::InvalidResponse(_)), "{error}");
    assert_ended(
        &error,
        "KASKO_ERR_INVALID_RESPONSE",
        Outcome::Unknown,
        Some(200),
        1,
        "a non-JSON policy view",
    );
    let blocking = expect_error(client.get_policy(&policy_id), "a blocking policy view");
    assert_as_blocking(&error, &blocking, "a non-JSON policy view");
}

#[test]
fn invalid_arguments_are_delivered_by_the_future() {
    let client = client();
    // Refused by the library before any I/O, completed through the callback.
    for (what, future) in [
        (
            "a malformed id",
            client.get_payment_async_with("not an id", &CallOptions::new()),
        ),
        (
            "an empty id",
            client.get_payment_async_with("", &CallOptions::new()),
        ),
        (
            "a bad traceparent",
            client.get_payment_async_with(UNKNOWN_ID, &CallOptions::new().traceparent("bogus")),
        ),
    ] {
        assert!(future.id().is_some(), "{what}: the library took the call");
        let error = expect_error(block_on(future), what);
        assert_refused_before_io(&error, what);
    }
    let error = expect_error(
        block_on(
            client.get_payment_async_with(UNKNOWN_ID, &CallOptions::new().traceparent("bogus")),
        ),
        "a bad traceparent",
    );
    assert!(
        error.message().starts_with("call option traceparent"),
        "{error}"
    );
    for (what, future) in [
        ("malformed JSON", client.create_quote_async("{")),
        ("not an object", client.create_quote_async("[]")),
    ] {
        assert_refused_before_io(&expect_error(block_on(future), what), what);
    }
    assert_refused_before_io(
        &expect_error(block_on(client.create_offer_async("{")), "malformed JSON"),
        "malformed JSON",
    );
    for (what, future) in [
        (
            "a policy id with a slash",
            client.get_policy_async("tpol_a/b"),
        ),
        ("an empty policy id", client.get_policy_async("")),
    ] {
        assert_refused_before_io(&expect_error(block_on(future), what), what);
    }
    assert_refused_before_io(
        &expect_error(
            block_on(client.get_offer_async("tpol_1/../x")),
            "a bad offer id",
        ),
        "a bad offer id",
    );
    let error = expect_error(
        block_on(client.create_payment_async(&PaymentRequest::new(
            "",
            "invoice",
            "invoice",
            UNKNOWN_POLICY,
        ))),
        "an empty token",
    );
    assert_refused_before_io(&error, "an empty token");

    // Refused by the crate (C cannot carry a NUL): ready at once, never made.
    let mut future = client.get_offer_async("tpol_\0");
    assert_eq!(future.id(), None);
    assert!(future.is_ready());
    match poll_once(&mut future) {
        Poll::Ready(Err(error)) => {
            assert_refused_before_io(&error, "a NUL");
            assert!(error.message().contains("NUL"), "{error}");
        }
        Poll::Ready(Ok(_)) => panic!("a NUL: succeeded"),
        Poll::Pending => panic!("a NUL: not ready at once"),
    }
    let error = expect_error(
        block_on(client.create_payment_async(&PaymentRequest::new(
            "ptok_\0",
            "invoice",
            "invoice",
            UNKNOWN_POLICY,
        ))),
        "a NUL in the token",
    );
    assert_refused_before_io(&error, "a NUL in the token");
    assert!(
        !error.message().contains("ptok_"),
        "the token is not quoted"
    );
}

#[test]
fn a_view_is_retried_after_two_503s() {
    let client = client_with(true, 2);
    let id = new_payment(&client);
    arm_fault(&id, r#"{"status":503}"#, 2);
    let viewed = block_on(client.get_payment_async_with(&id, &CallOptions::new())).expect("a view");
    assert_eq!((viewed.attempts(), viewed.http_status()), (3, Some(200)));
    assert_eq!(attempts_seen(&id), 3, "two 503s and the answer");

    // Out of retries: the last 503 is the answer.
    arm_fault(&id, r#"{"status":503}"#, 3);
    let error = expect_error(block_on(client.get_payment_async(&id)), "three 503s");
    assert!(matches!(error, Error::Server(_)), "{error}");
    assert_eq!((error.http_status(), error.attempts()), (Some(503), 3));
    assert_eq!(attempts_seen(&id), 6);
}

#[test]
fn dropping_a_future_cancels_its_call() {
    let client = client();
    let id = new_payment(&client);
    let ends = call_end_recorder(&client);
    arm_fault(&id, r#"{"delay_ms":10000}"#, 1);
    let mut future = client.get_payment_async(&id);
    assert!(poll_once(&mut future).is_pending());
    wait_for_attempts(&id, 1); // the request is at the sandbox, held there
    let dropped = Instant::now();
    drop(future);
    // Its callback still comes (the library's call end says how it ended).
    let deadline = Instant::now() + PATIENCE;
    loop {
        let first = ends.lock().unwrap().first().cloned();
        if let Some(end) = first {
            assert_eq!(
                end,
                (
                    "payment_get".to_string(),
                    "KASKO_ERR_CANCELLED",
                    Outcome::Unknown
                )
            );
            break;
        }
        assert!(Instant::now() < deadline, "no call end after the drop");
        thread::sleep(Duration::from_millis(5));
    }
    assert!(
        dropped.elapsed() < Duration::from_secs(5),
        "cancelled, not waited out"
    );
    assert_eq!(attempts_seen(&id), 1, "not retried");
    // The client goes on.
    let viewed = block_on(client.get_payment_async_with(&id, &CallOptions::new())).expect("a view");
    assert_eq!(viewed.http_status(), Some(200));
}

#[test]
fn a_cancelled_future_says_what_may_have_happened() {
    let client = client();
    let id = new_payment(&client);
    arm_fault(&id, r#"{"delay_ms":10000}"#, 1);
    let future = client.get_payment_async_with(&id, &CallOptions::new());
    let call = future.id().expect("made");
    wait_for_attempts(&id, 1);
    let cancelled = Instant::now();
    future.cancel();
    future.cancel(); // twice does nothing more
    let error = expect_error(block_on(future), "cancelled");
    assert!(
        cancelled.elapsed() < Duration::from_secs(5),
        "cancelled, not waited out"
    );
    assert!(matches!(error, Error::Cancelled(_)), "{error}");
    assert_eq!(error.code(), "KASKO_ERR_CANCELLED");
    assert_eq!(
        error.outcome(),
        Outcome::Unknown,
        "the request was sent: {error}"
    );
    assert_eq!((error.attempts(), error.http_status()), (1, None));

    // A call that finished first keeps its result.
    let future = client.get_payment_async(&id);
    assert_ne!(future.id(), Some(call));
    let mut future = future;
    let result = block_on(&mut future);
    future.cancel();
    assert!(result.is_ok(), "its own result");
}

#[test]
fn five_hundred_futures_complete_on_one_thread() {
    let client = client();
    let ids: Vec<String> = (0..5).map(|_| new_payment(&client)).collect();
    let started = Instant::now();
    let futures: Vec<CallFuture<Answer>> = (0..500)
        .map(|i| client.get_payment_async_with(&ids[i % ids.len()], &CallOptions::new()))
        .collect();
    let (results, polls) = join_all(futures);
    assert_eq!(results.len(), 500);
    for (i, result) in results.iter().enumerate() {
        match result {
            Ok(answer) => {
                assert_eq!(
                    answer.member_str("id"),
                    Some(ids[i % ids.len()].as_str()),
                    "future {i}"
                )
            }
            Err(e) => panic!("future {i}: {e}"),
        }
    }
    // Each future was polled once, then once per wake: no busy polling.
    assert!(polls <= 1000, "{polls} polls for 500 futures");
    eprintln!(
        "500 concurrent views on one thread: {:?}, {polls} polls",
        started.elapsed()
    );
}

#[test]
fn dropping_the_client_cancels_its_futures() {
    let client = client();
    let id = new_payment(&client);
    arm_fault(&id, r#"{"delay_ms":10000}"#, 3);
    let mut futures: Vec<CallFuture<String>> =
        (0..3).map(|_| client.get_payment_async(&id)).collect();
    for future in &mut futures {
        assert!(poll_once(future).is_pending());
    }
    wait_for_attempts(&id, 3);
    // Not yet sent, or sent: either way cancelled.
    let mut late = client.get_policy_async(UNKNOWN_POLICY);
    let dropped = Instant::now();
    drop(client);
    assert!(
        dropped.elapsed() < Duration::from_secs(5),
        "cancelled, not waited out"
    );
    // kasko_client_free ran every callback before it returned: ready now.
    for (i, future) in futures.iter_mut().enumerate() {
        assert!(future.is_ready(), "future {i}");
        match poll_once(future) {
            Poll::Ready(Err(error)) => {
                assert!(matches!(error, Error::Cancelled(_)), "future {i}: {error}");
                assert_eq!(error.outcome(), Outcome::Unknown, "future {i}: sent");
            }
            Poll::Ready(Ok(_)) => panic!("future {i}: succeeded"),
            Poll::Pending => panic!("future {i}: still pending after the client's drop"),
        }
        future.cancel(); // after the client: does nothing
    }
    match poll_once(&mut late) {
        // Cancelled, or answered 404 if the answer came first.
        Poll::Ready(Err(Error::Cancelled(_) | Error::NotFound(_))) => {}
        Poll::Ready(other) => panic!("late: {:?}", other.map(|_| ())),
        Poll::Pending => panic!("late: still pending after the client's drop"),
    }
    drop(futures);
}
