//! Tests of the event hook (`Client::set_event_hook`, libkasko 1.2) and of
//! `total_time()` against a running kasko-sandbox started with `--faults`
//! (`KASKO_SANDBOX_URL`; `scripts/check-bindings rust` starts one), whose
//! armed faults force a retry.
mod common;
use common::env;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use kasko::{sys, Client, Config, Error, Event, EventHook, EventKind, Outcome, PaymentRequest};

const UNKNOWN_ID: &str = "t00000000000000000000000000000000";


fn public_key() -> String {
    env("KASKO_SANDBOX_PUBLIC_KEY", Some("pk_test_sandbox"))
}

fn secret_key() -> String {
    env("KASKO_SANDBOX_SECRET_KEY", Some("sk_test_sandbox"))
}

/// POSTs `body` to the sandbox over a hand-written HTTP/1.1 request; the
/// status line and the body of the answer.
fn post(path: &str, body: &str) -> (String, String) {
    let url = env("KASKO_SANDBOX_URL", None);
    let authority = url.strip_prefix("http://").expect("an http:// sandbox URL");
    let authority = authority.split('/').next().unwrap();
    let mut stream = TcpStream::connect(authority).expect("connect to the sandbox");
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {authority}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("the sandbox's answer");
    let (head, body) = answer.split_once("\r\n\r\n").expect("a complete answer");
    (head.lines().next().unwrap_or("").to_string(), body.to_string())
}

/// A new offer: (policy id, token).
fn new_offer() -> (String, String) {
    let (status, body) = post("/__sandbox/offers", "{}");
    assert!(status.starts_with("HTTP/1.1 201"), "offer: {status} {body}");
    // Exactly {"policy_id":"tpol_<hex>","token":"ptok_<hex>"}.
    match body.split('"').collect::<Vec<_>>().as_slice() {
        ["{", "policy_id", ":", policy_id, ",", "token", ":", token, "}"] => {
            (policy_id.to_string(), token.to_string())
        }
        _ => panic!("an offer of another shape: {body}"),
    }
}

/// Arms a sandbox fault (docs/sandbox-faults.md) for the next `times`
/// requests whose fault key is `key` (a view's payment id).
fn arm_fault(key: &str, fault: &str, times: u32) {
    let (status, body) = post(
        "/__sandbox/faults",
        &format!(r#"{{"key":"{key}","fault":{fault},"times":{times}}}"#),
    );
    assert!(
        status.starts_with("HTTP/1.1 201"),
        "arming {fault} on {key}: {status} {body} (is the sandbox running with --faults?)"
    );
}

fn client_with_retries(retries: u32) -> Client {
    Client::from_config(
        &Config::new()
            .public_key(&public_key())
            .secret_key(&secret_key())
            .base_url(&env("KASKO_SANDBOX_URL", None))
            .max_retries(retries),
    )
    .expect("a client")
}

fn new_payment(client: &Client) -> String {
    let (policy_id, token) = new_offer();
    let request = PaymentRequest::new(&token, "invoice", "invoice", &policy_id);
    let created = client
        .create_payment_with(&request, &Default::default())
        .expect("create");
    created.member_str("id").expect("an id").to_string()
}

/// What a recording hook keeps of an event: owned copies.
#[derive(Debug, Clone)]
struct Seen {
    kind: EventKind,
    operation: String,
    method: String,
    route: String,
    path: String,
    attempt: u32,
    http_status: Option<u16>,
    code: &'static str,
    outcome: Outcome,
    retry: bool,
    retry_delay: Option<Duration>,
    request_id: Option<String>,
    bytes_sent: u64,
    bytes_received: u64,
    dns: Option<Duration>,
    first_byte: Option<Duration>,
    total: Duration,
    message: Option<String>,
    json: String,
}

impl Seen {
    fn of(e: &Event<'_>) -> Seen {
        Seen {
            kind: e.kind(),
            operation: e.operation().to_owned(),
            method: e.method().to_owned(),
            route: e.route().to_owned(),
            path: e.path().to_owned(),
            attempt: e.attempt(),
            http_status: e.http_status(),
            code: e.code(),
            outcome: e.outcome(),
            retry: e.retry(),
            retry_delay: e.retry_delay(),
            request_id: e.request_id().map(str::to_owned),
            bytes_sent: e.bytes_sent(),
            bytes_received: e.bytes_received(),
            dns: e.dns(),
            first_byte: e.first_byte(),
            total: e.total(),
            message: e.message().map(str::to_owned),
            json: e.json().to_owned(),
        }
    }
}

/// A hook that records every event, and what it recorded.
fn recorder() -> (EventHook, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&seen);
    let hook: EventHook = Box::new(move |e: &Event<'_>| kept.lock().unwrap().push(Seen::of(e)));
    (hook, seen)
}

/// No event names a key (in full, nor a real key's random part) or a query.
fn assert_no_keys(events: &[Seen]) {
    for e in events {
        for key in [public_key(), secret_key()] {
            assert!(!e.json.contains(&key), "a key in an event: {}", e.json);
            if key.len() >= 40 {
                assert!(!e.json.contains(&key[8..]), "a key's random part in an event: {}", e.json);
            }
        }
        assert!(!e.path.contains('?') && !e.path.contains("key="), "a query in the path: {}", e.json);
    }
}

#[test]
fn a_retried_view_is_one_attempt_event_per_attempt_then_one_call_end() {
    let client = client_with_retries(2);
    let id = new_payment(&client);
    let (hook, seen) = recorder();
    client.set_event_hook(Some(hook)).unwrap();
    arm_fault(&id, r#"{"status":503}"#, 1);
    let viewed = client.get_payment_with(&id, &Default::default()).expect("view");
    client.clear_event_hook().unwrap();
    assert_eq!(viewed.attempts(), 2);
    let events = seen.lock().unwrap().clone();
    assert_eq!(events.len(), viewed.attempts() as usize + 1, "{events:#?}");
    for (i, e) in events[..2].iter().enumerate() {
        assert_eq!((e.kind, e.attempt), (EventKind::Attempt, i as u32 + 1), "{}", e.json);
        assert_eq!(
            (e.operation.as_str(), e.method.as_str(), e.route.as_str()),
            ("payment_get", "GET", "/payments/{id}"),
            "{}",
            e.json
        );
        assert!(e.path.ends_with(&format!("/payments/{id}")), "{}", e.json);
        assert!(e.dns.is_some() && e.first_byte.is_some() && e.total > Duration::ZERO, "{}", e.json);
        assert!(e.bytes_sent > 0 && e.bytes_received > 0 && e.request_id.is_some(), "{}", e.json);
    }
    let failed = &events[0];
    assert_eq!((failed.http_status, failed.code), (Some(503), "KASKO_ERR_SERVER"), "{}", failed.json);
    assert!(failed.retry && failed.retry_delay.is_some() && failed.message.is_some(), "{}", failed.json);
    let second = &events[1];
    assert_eq!((second.http_status, second.code, second.outcome), (Some(200), "KASKO_OK", Outcome::Succeeded));
    assert!(!second.retry && second.retry_delay.is_none() && second.message.is_none(), "{}", second.json);
    let end = &events[2];
    assert_eq!((end.kind, end.attempt, end.code, end.http_status), (EventKind::CallEnd, 2, "KASKO_OK", Some(200)));
    assert!(end.dns.is_none(), "no phases for a call end: {}", end.json);
    assert_eq!(end.request_id.as_deref(), viewed.request_id());
    assert!(viewed.total_time() > Duration::ZERO, "a success's total time");
    assert_eq!(end.total, viewed.total_time(), "call_end's total_us is total_time()");
    assert!(viewed.total_time() >= events[0].total + events[1].total);
    assert_no_keys(&events);
}

#[test]
fn a_creates_events_name_no_key_and_total_time_is_read() {
    let client = client_with_retries(0);
    let (hook, seen) = recorder();
    client.set_event_hook(Some(hook)).unwrap();
    let (policy_id, token) = new_offer();
    let request = PaymentRequest::new(&token, "invoice", "invoice", &policy_id);
    let created = client.create_payment_with(&request, &Default::default()).expect("create");
    let error = client.get_payment(UNKNOWN_ID).expect_err("unknown");
    client.set_event_hook(None).unwrap();
    let events = seen.lock().unwrap().clone();
    assert_eq!(events.len(), 4, "{events:#?}");
    assert_eq!(
        (events[0].operation.as_str(), events[0].method.as_str(), events[0].route.as_str(), events[0].path.as_str()),
        ("payment_create", "POST", "/payments", "/payments")
    );
    assert_eq!((events[3].kind, events[3].code, events[3].outcome), (EventKind::CallEnd, "KASKO_ERR_NOT_FOUND", Outcome::Rejected));
    assert_eq!(events[3].message.as_deref(), Some(error.message()));
    assert_no_keys(&events);
    assert!(created.total_time() > Duration::ZERO);
    assert!(matches!(error, Error::NotFound(_)));
    assert!(error.total_time() > Duration::ZERO);
    assert_eq!(error.total_time(), error.details().total_time());
    assert_eq!(events[3].total, error.total_time());
    let refused = client.get_payment("not a payment id").expect_err("refused");
    assert_eq!(refused.total_time(), Duration::ZERO, "refused before any I/O");
    assert_eq!(Error::new(sys::KASKO_ERR_INTERNAL, "made").total_time(), Duration::ZERO);
}

#[test]
fn a_panicking_hook_does_not_change_the_call_and_is_counted() {
    let client = client_with_retries(0);
    let id = new_payment(&client);
    let called = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&called);
    client
        .set_event_hook(Some(Box::new(move |e: &Event<'_>| {
            counter.fetch_add(1, Ordering::SeqCst);
            if e.kind() == EventKind::Attempt {
                panic!("a hook's own failure");
            }
            std::panic::panic_any(42u32); // not a string payload
        })))
        .unwrap();
    assert_eq!(client.event_hook_panics(), 0);
    let viewed = client.get_payment_with(&id, &Default::default()).expect("the call's own result");
    assert_eq!((viewed.member_str("id"), viewed.attempts()), (Some(id.as_str()), 1));
    assert!(matches!(client.get_payment(UNKNOWN_ID), Err(Error::NotFound(_))));
    client.clear_event_hook().unwrap();
    assert_eq!(called.load(Ordering::SeqCst), 4);
    assert_eq!(client.event_hook_panics(), 4);
}

#[test]
fn calls_inside_a_hook_deliver_no_events_and_setting_a_hook_there_is_refused() {
    let client = Arc::new(client_with_retries(0));
    let other = Arc::new(client_with_retries(0));
    let id = new_payment(&client);
    let (other_hook, other_seen) = recorder();
    other.set_event_hook(Some(other_hook)).unwrap();
    let called = Arc::new(AtomicUsize::new(0));
    let nested_ok = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    // The hook holds weak references: a client owning a hook that owns it
    // would never be dropped.
    let (weak_client, weak_other): (Weak<Client>, Weak<Client>) = (Arc::downgrade(&client), Arc::downgrade(&other));
    let (c, n, r, payment) = (Arc::clone(&called), Arc::clone(&nested_ok), Arc::clone(&refused), id.clone());
    client
        .set_event_hook(Some(Box::new(move |e: &Event<'_>| {
            c.fetch_add(1, Ordering::SeqCst);
            if e.kind() != EventKind::Attempt {
                return;
            }
            for target in [weak_client.upgrade(), weak_other.upgrade()].into_iter().flatten() {
                if target.get_payment(&payment).is_ok() {
                    n.fetch_add(1, Ordering::SeqCst);
                }
                if let Err(Error::InvalidArgument(_)) = target.set_event_hook(None) {
                    r.fetch_add(1, Ordering::SeqCst);
                }
            }
        })))
        .unwrap();
    client.get_payment(&id).expect("view");
    client.clear_event_hook().unwrap();
    other.clear_event_hook().unwrap();
    assert_eq!(called.load(Ordering::SeqCst), 2, "one attempt and one call end, none of the nested calls'");
    assert_eq!(nested_ok.load(Ordering::SeqCst), 2, "the nested calls succeeded");
    assert_eq!(refused.load(Ordering::SeqCst), 2, "set_event_hook refused inside a hook");
    assert!(other_seen.lock().unwrap().is_empty(), "the other client's call inside the hook delivered nothing");
}

/// Sets a flag when dropped.
struct Probe(Arc<AtomicBool>);

impl Drop for Probe {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[test]
fn the_hook_is_replaced_and_cleared_while_8_threads_make_calls() {
    const HOOKS: usize = 150;
    let client = client_with_retries(0);
    let id = new_payment(&client);
    let calls: Arc<Vec<AtomicU64>> = Arc::new((0..HOOKS).map(|_| AtomicU64::new(0)).collect());
    let dropped: Vec<Arc<AtomicBool>> = (0..HOOKS).map(|_| Arc::new(AtomicBool::new(false))).collect();
    let called_dropped = Arc::new(AtomicUsize::new(0));
    let stop = AtomicBool::new(false);
    let done = AtomicU64::new(0);
    let failures = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                while !stop.load(Ordering::SeqCst) {
                    match client.get_payment(&id) {
                        Ok(_) => done.fetch_add(1, Ordering::SeqCst),
                        Err(_) => {
                            failures.fetch_add(1, Ordering::SeqCst);
                            break;
                        }
                    };
                }
            });
        }
        // Stops the workers however this thread leaves the scope.
        struct Stop<'a>(&'a AtomicBool);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let _stop = Stop(&stop);
        // Waits until the workers have made more calls.
        let calls_made = |at_least: u64| {
            while done.load(Ordering::SeqCst) < at_least {
                assert_eq!(failures.load(Ordering::SeqCst), 0, "a worker's call failed");
                std::thread::yield_now();
            }
        };
        calls_made(8);
        let mut after_replaced = vec![None; HOOKS];
        for h in 0..HOOKS {
            let probe = Probe(Arc::clone(&dropped[h]));
            let (counts, flag, called_dropped) = (Arc::clone(&calls), Arc::clone(&dropped[h]), Arc::clone(&called_dropped));
            client
                .set_event_hook(Some(Box::new(move |e: &Event<'_>| {
                    let _keep = &probe; // dropped with the hook
                    // A hook that takes a while, to overlap a replacement;
                    // it must never run once dropped.
                    for _ in 0..20 {
                        if flag.load(Ordering::SeqCst) || e.json().is_empty() {
                            called_dropped.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    counts[h].fetch_add(1, Ordering::SeqCst);
                })))
                .unwrap();
            if h > 0 {
                // The previous hook is not running and never runs again, and it was dropped.
                after_replaced[h - 1] = Some(calls[h - 1].load(Ordering::SeqCst));
                assert!(dropped[h - 1].load(Ordering::SeqCst), "the replaced hook was dropped");
            }
            calls_made(done.load(Ordering::SeqCst) + 4);
            if h % 10 == 9 {
                client.clear_event_hook().unwrap();
                after_replaced[h] = Some(calls[h].load(Ordering::SeqCst));
                assert!(dropped[h].load(Ordering::SeqCst), "the cleared hook was dropped");
                calls_made(done.load(Ordering::SeqCst) + 4);
            }
        }
        client.clear_event_hook().unwrap();
        calls_made(done.load(Ordering::SeqCst) + 8);
        stop.store(true, Ordering::SeqCst);
        let mut total = 0;
        for h in 0..HOOKS {
            let count = calls[h].load(Ordering::SeqCst);
            total += count;
            if let Some(then) = after_replaced[h] {
                assert_eq!(count, then, "hook {h} was called after it was replaced");
            }
        }
        assert!(total > 0, "the hooks saw events");
    });
    assert_eq!(failures.load(Ordering::SeqCst), 0);
    assert_eq!(called_dropped.load(Ordering::SeqCst), 0, "a hook ran after it was dropped");
    assert_eq!(client.event_hook_panics(), 0);
}

#[test]
fn the_hook_belongs_to_the_client_and_is_dropped_with_it() {
    let dropped = Arc::new(AtomicBool::new(false));
    let client = client_with_retries(0);
    let probe = Probe(Arc::clone(&dropped));
    client
        .set_event_hook(Some(Box::new(move |_: &Event<'_>| {
            let _keep = &probe;
        })))
        .unwrap();
    let id = new_payment(&client);
    // Moved to another thread, used and dropped there.
    std::thread::spawn(move || {
        client.get_payment(&id).expect("view");
        assert!(!dropped.load(Ordering::SeqCst), "the client keeps its hook");
        drop(client);
        assert!(dropped.load(Ordering::SeqCst), "dropped with the client");
    })
    .join()
    .unwrap();
}
