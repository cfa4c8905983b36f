//! The checkout calls (libkasko 1.3) against a running kasko-sandbox
//! started with `--faults` (`KASKO_SANDBOX_URL`; `scripts/check-bindings
//! rust` starts one), over real HTTP. No test prints an offer's JSON or a
//! payment token.
mod common;
use common::env;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use kasko::{CallOptions, Client, Error, Offer, Outcome, PaymentRequest, PaymentState, Policy};

const TRAVEL_QUOTE: &str = r#"{"item_id":"ins_sandbox_travel","subscription_plan_id":"pp_sandbox_single","integration_id":"in_sandbox_travel","data":{"trip_cost":100000,"policy_start_date":"2027-01-15"}}"#;
const UNKNOWN_POLICY: &str = "tpol_0000000000000000000000000000";

/// One hand-written HTTP/1.1 request to the sandbox: the status line and
/// the body of the answer.
fn http(method: &str, path: &str, body: &str) -> (String, String) {
    let url = env("KASKO_SANDBOX_URL", None);
    let authority = url.strip_prefix("http://").expect("an http:// sandbox URL");
    let authority = authority.split('/').next().unwrap();
    let mut stream = TcpStream::connect(authority).expect("connect to the sandbox");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
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

/// Arms a fault for one route only (docs/sandbox.md, "Faults").
fn arm_route_fault(key: &str, route: &str, fault: &str, times: u32) {
    let (status, body) = http(
        "POST",
        "/__sandbox/faults",
        &format!(r#"{{"key":"{key}","route":"{route}","fault":{fault},"times":{times}}}"#),
    );
    assert!(
        status.starts_with("HTTP/1.1 201"),
        "arming {fault} on {route}: {status} {body}"
    );
}

/// How many payments the sandbox ever created on the policy (its counter,
/// `{"policy_id":ID,"payments":["t...",...]}`; payment ids have no commas).
fn payments_on(policy_id: &str) -> usize {
    let (status, body) = http(
        "GET",
        &format!("/__sandbox/policies/{policy_id}/payments"),
        "",
    );
    assert!(
        status.starts_with("HTTP/1.1 200"),
        "counter: {status} {body}"
    );
    let list = body
        .split_once(r#""payments":["#)
        .and_then(|(_, rest)| rest.split_once(']'))
        .map(|(list, _)| list)
        .unwrap_or_else(|| panic!("no payments array: {body}"));
    if list.trim().is_empty() {
        0
    } else {
        list.split(',').count()
    }
}

fn client_with(secret: bool) -> Client {
    let mut config = kasko::Config::new()
        .public_key(&env("KASKO_SANDBOX_PUBLIC_KEY", Some("pk_test_sandbox")))
        .base_url(&env("KASKO_SANDBOX_URL", None))
        .max_retries(0);
    if secret {
        config = config.secret_key(&env("KASKO_SANDBOX_SECRET_KEY", Some("sk_test_sandbox")));
    }
    Client::from_config(&config).expect("a client")
}

fn client() -> Client {
    client_with(true)
}

fn offer_request(quote_token: &str) -> String {
    format!(
        r#"{{"quote_token":"{quote_token}","first_name":"Ada","last_name":"Lovelace","email":"ada@example.com","language":"de"}}"#
    )
}

/// A quote and an offer, made through the binding.
fn checkout_offer(client: &Client) -> Offer {
    let quote = client.create_quote(TRAVEL_QUOTE).expect("a quote");
    assert!(quote.token().starts_with("qtok_"), "{quote:?}");
    let offer = client
        .create_offer(&offer_request(quote.token()))
        .expect("an offer");
    assert!(offer.id().starts_with("tpol_"), "{offer:?}");
    assert!(
        offer
            .payment_token()
            .is_some_and(|t| t.starts_with("ptok_")),
        "{offer:?}"
    );
    offer
}

fn payment_request(offer: &Offer) -> PaymentRequest {
    PaymentRequest::new(
        offer.payment_token().unwrap(),
        "invoice",
        "invoice",
        offer.id(),
    )
}

/// Views the policy until its status is `status`, for at most 10 s.
fn policy_with_status(client: &Client, policy_id: &str, status: &str) -> Policy {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let policy = client.get_policy(policy_id).expect("a policy view");
        if policy.status() == Some(status) {
            return policy;
        }
        assert!(
            Instant::now() < deadline,
            "not {status} within 10 s: {policy:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn assert_refused_before_io(result: Result<impl std::fmt::Debug, Error>, what: &str) {
    match result {
        Err(Error::InvalidArgument(details)) => {
            assert_eq!(details.outcome(), Outcome::NotSent, "{what}");
            assert_eq!(details.attempts(), 0, "{what}");
            assert_eq!(details.http_status(), None, "{what}");
        }
        other => panic!("{what}: not refused before I/O: {:?}", other.map(|_| ())),
    }
}

#[test]
fn quote_offer_and_views_with_etag_and_last_modified() {
    let client = client();
    let quote = client.create_quote(TRAVEL_QUOTE).expect("a quote");
    assert_eq!(
        quote.gross_payment_amount(),
        Some(4000),
        "max(500, 100000*4/100)"
    );
    assert_eq!(quote.answer().http_status(), Some(200));
    assert!(quote.json().contains("\"extra_data\""), "{}", quote.json());
    assert_eq!(
        client.create_quote(TRAVEL_QUOTE).unwrap().token(),
        quote.token(),
        "deterministic"
    );

    let offer = client
        .create_offer_with(
            &offer_request(quote.token()),
            &CallOptions::new().timeout(Duration::from_secs(10)),
        )
        .expect("an offer");
    assert_eq!(offer.http_status(), Some(201));
    let token = offer.payment_token().expect("a payment token").to_string();
    let debug = format!("{offer:?}");
    assert!(
        !debug.contains(&token) && debug.contains("[redacted]"),
        "Debug redacts the token"
    );

    let viewed = client.get_offer(offer.id()).expect("an offer view");
    assert_eq!(viewed.id(), offer.id());
    assert_eq!(viewed.status(), Some("ready"));
    assert_eq!(
        viewed.payment_token(),
        Some(token.as_str()),
        "the same token"
    );
    assert!(!format!("{viewed:?}").contains(&token));

    let options =
        CallOptions::new().traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    let policy = client
        .get_policy_with(offer.id(), &options)
        .expect("a policy view");
    assert_eq!(policy.id(), offer.id());
    assert_eq!(policy.status(), Some("pending"));
    assert!(!policy.is_paid());
    assert!(
        policy.etag().is_some_and(|e| e.starts_with("tpv_")),
        "{policy:?}"
    );
    assert_eq!(
        policy.etag(),
        policy.version_id(),
        "the ETag is the version id"
    );
    assert!(
        policy.last_modified().is_some_and(|d| d.ends_with("GMT")),
        "{policy:?}"
    );
    assert_eq!(policy.answer().etag(), policy.etag());
}

#[test]
fn documented_errors_of_each_call() {
    let client = client();
    // 400, with the server's errors array.
    let bad_data = r#"{"item_id":"ins_sandbox_travel","subscription_plan_id":"pp_sandbox_single","integration_id":"in_sandbox_travel","data":{"trip_cost":0}}"#;
    match client.create_quote(bad_data) {
        Err(Error::BadRequest(details)) => {
            assert_eq!(details.http_status(), Some(400));
            let errors = details
                .answer()
                .member_json("errors")
                .expect("an errors array");
            for part in [
                "\"invalid_value\"",
                "\"trip_cost\"",
                "\"required\"",
                "\"policy_start_date\"",
            ] {
                assert!(errors.contains(part), "{part} in {errors}");
            }
        }
        other => panic!("bad data: {other:?}"),
    }
    match client.create_offer(&offer_request(
        "qtok_0000000000000000000000000000000000000000",
    )) {
        Err(Error::BadRequest(details)) => {
            assert_eq!(details.outcome(), Outcome::Rejected);
            let errors = details
                .answer()
                .member_json("errors")
                .expect("an errors array");
            assert!(errors.contains("\"quote_token\""), "{errors}");
        }
        other => panic!("unknown quote token: {other:?}"),
    }
    // 404.
    match client.get_offer(UNKNOWN_POLICY) {
        Err(Error::NotFound(details)) => assert_eq!(details.http_status(), Some(404)),
        other => panic!("unknown offer: {other:?}"),
    }
    match client.get_policy(UNKNOWN_POLICY) {
        Err(Error::NotFound(details)) => {
            assert_eq!(details.http_status(), Some(404));
            assert_eq!(details.answer().etag(), None);
        }
        other => panic!("unknown policy: {other:?}"),
    }
    // 401: views need the secret key; quotes and offers do not.
    let public_only = client_with(false);
    let offer = checkout_offer(&public_only);
    assert!(matches!(
        public_only.get_offer(offer.id()),
        Err(Error::Unauthorized(_))
    ));
    assert!(matches!(
        public_only.get_policy(offer.id()),
        Err(Error::Unauthorized(_))
    ));
    // Refused before any I/O.
    assert_refused_before_io(client.create_quote("not json"), "quote not JSON");
    assert_refused_before_io(
        client.create_offer(r#"{"quote_token":"qtok_1"}"#),
        "offer missing members",
    );
    assert_refused_before_io(client.get_offer("tpol_1/../x"), "bad offer id");
    assert_refused_before_io(client.get_policy(""), "empty policy id");
    assert_refused_before_io(client.get_policy("tpol_1\0x"), "NUL in policy id");
    assert_refused_before_io(
        client.resolve_payment(&PaymentRequest::new("", "invoice", "invoice", offer.id())),
        "resolve with an empty token",
    );
    assert_refused_before_io(
        client.get_policy_with(offer.id(), &CallOptions::new().traceparent("bogus")),
        "bad options",
    );
}

#[test]
fn invoice_payment_makes_the_policy_paid_with_a_new_etag() {
    let client = client();
    let offer = checkout_offer(&client);
    let before = client.get_policy(offer.id()).expect("a policy view");
    assert_eq!(before.status(), Some("pending"));
    let before_etag = before.etag().expect("an ETag").to_string();
    client
        .create_payment(&payment_request(&offer))
        .expect("an invoice payment");
    let after = policy_with_status(&client, offer.id(), "paid");
    assert!(after.is_paid());
    assert_ne!(after.etag(), Some(before_etag.as_str()), "the ETag changed");
    assert_eq!(after.etag(), after.version_id());
    assert!(after.last_modified().is_some());
    assert!(
        after.answer().member_str("policy_created_date").is_some(),
        "{after:?}"
    );
    assert_eq!(
        client.get_offer(offer.id()).unwrap().status(),
        Some("accepted")
    );
}

#[test]
fn resolve_after_a_create_dropped_after_its_body_is_paid_with_one_payment() {
    let client = client();
    let offer = checkout_offer(&client);
    let request = payment_request(&offer);
    arm_route_fault(offer.id(), "payment_create", r#"{"drop":"after_body"}"#, 1);
    let lost = client
        .create_payment(&request)
        .expect_err("the create is dropped");
    assert_eq!(lost.outcome(), Outcome::Unknown, "{lost:?}");

    let resolved = client.resolve_payment(&request).expect("a resolution");
    assert_eq!(resolved.state(), PaymentState::Paid, "{resolved:?}");
    assert!(
        !resolved.created_by_this_call(),
        "the lost create paid: {resolved:?}"
    );
    assert!(
        ["policy_paid", "already_paid"].contains(&resolved.evidence()),
        "{resolved:?}"
    );
    assert_eq!(resolved.policy_id(), offer.id());
    assert!(!resolved.message().is_empty());
    let token = offer.payment_token().unwrap();
    assert!(!resolved.json().contains(token) && !format!("{resolved:?}").contains(token));
    assert_eq!(payments_on(offer.id()), 1, "exactly one payment");
    // Resolving again never pays again.
    assert_eq!(
        client.resolve_payment(&request).unwrap().state(),
        PaymentState::Paid
    );
    assert_eq!(payments_on(offer.id()), 1, "still one payment");
}

#[test]
fn resolve_with_nothing_paid_pays_and_a_wrong_token_is_not_paid() {
    let client = client();
    let offer = checkout_offer(&client);
    let made = client
        .resolve_payment_with(
            &payment_request(&offer),
            &CallOptions::new().timeout(Duration::from_secs(10)),
        )
        .expect("a resolution");
    assert_eq!(made.state(), PaymentState::Paid, "{made:?}");
    assert!(
        made.created_by_this_call() && made.evidence() == "created",
        "{made:?}"
    );
    let payment_id = made.payment_id().expect("the payment made").to_string();
    let payment = client
        .get_payment_with(&payment_id, &CallOptions::new())
        .expect("the payment");
    assert_eq!(payment.member_str("id"), Some(payment_id.as_str()));
    assert_eq!(payments_on(offer.id()), 1);

    let other = checkout_offer(&client);
    let wrong = PaymentRequest::new(
        offer.payment_token().unwrap(),
        "invoice",
        "invoice",
        other.id(),
    );
    let refused = client.resolve_payment(&wrong).expect("a resolution");
    assert_eq!(refused.state(), PaymentState::NotPaid, "{refused:?}");
    assert!(
        !refused.created_by_this_call() && refused.evidence() == "create_refused",
        "{refused:?}"
    );
    assert_eq!(refused.payment_id(), None);
    assert_eq!(payments_on(other.id()), 0, "no payment on the other policy");
    assert_eq!(PaymentState::NotPaid.as_str(), "not_paid");
    assert_eq!(PaymentState::Paid.to_string(), "paid");
}

// The documented statuses the tests above leave out (docs/sandbox.md,
// Tests/C/test_checkout.c), each with the binding's error and outcome.

/// A client with a public key the sandbox does not know, and no secret key.
fn stranger() -> Client {
    let config = kasko::Config::new()
        .public_key(&format!("pk_test_{}", "0".repeat(32)))
        .base_url(&env("KASKO_SANDBOX_URL", None))
        .max_retries(0);
    Client::from_config(&config).expect("a client")
}

fn quote_of(integration: &str, plan: &str) -> String {
    format!(
        r#"{{"integration_id":"{integration}","item_id":"ins_sandbox_travel","subscription_plan_id":"{plan}","data":{{"trip_cost":100000,"policy_start_date":"2027-01-15"}}}}"#
    )
}

/// `error` is an answer of HTTP `http` that the server rejected.
fn assert_rejected(error: &Error, http: u16, what: &str) {
    assert_eq!(error.http_status(), Some(http), "{what}: {error:?}");
    assert_eq!(error.outcome(), Outcome::Rejected, "{what}: {error:?}");
}

#[test]
fn create_quote_401_404_409_and_refusals() {
    let client = client();
    match stranger().create_quote(TRAVEL_QUOTE) {
        Err(e @ Error::Unauthorized(_)) => assert_rejected(&e, 401, "another public key"),
        other => panic!("another public key: {other:?}"),
    }
    match client.create_quote(&quote_of("in_nope", "pp_sandbox_single")) {
        Err(e @ Error::NotFound(_)) => {
            assert_rejected(&e, 404, "unknown integration");
            assert!(format!("{e:?}").contains("in_nope"), "{e:?}");
        }
        other => panic!("unknown integration: {other:?}"),
    }
    match client.create_quote(&quote_of("in_sandbox_travel", "pp_nope")) {
        Err(e @ Error::NotFound(_)) => {
            assert_rejected(&e, 404, "unknown plan");
            assert!(format!("{e:?}").contains("pp_nope"), "{e:?}");
        }
        other => panic!("unknown plan: {other:?}"),
    }
    match client.create_quote(&quote_of("in_sandbox_building", "pp_sandbox_single")) {
        Err(e @ Error::Server(_)) => assert_rejected(&e, 409, "pricing being built"),
        other => panic!("pricing being built: {other:?}"),
    }
    assert_refused_before_io(client.create_quote("[]"), "quote not an object");
    assert_refused_before_io(
        client.create_quote(
            r#"{"item_id":"ins_sandbox_travel","subscription_plan_id":"pp_sandbox_single","data":{}}"#,
        ),
        "quote without integration_id",
    );
}

#[test]
fn create_offer_id_bad_email_401_and_missing_email() {
    let client = client();
    let offer = checkout_offer(&client);
    assert_eq!(offer.id().len(), "tpol_".len() + 28, "{offer:?}");
    let quote = client.create_quote(TRAVEL_QUOTE).expect("a quote");
    let token = quote.token();
    match client.create_offer(&format!(
        r#"{{"quote_token":"{token}","first_name":"Ada","last_name":"Lovelace","email":"no-at-sign","language":"de"}}"#
    )) {
        Err(Error::BadRequest(details)) => {
            assert_eq!(details.http_status(), Some(400));
            assert_eq!(details.outcome(), Outcome::Rejected);
            let errors = details.answer().member_json("errors").expect("an errors array");
            assert!(errors.contains("\"email\""), "{errors}");
        }
        other => panic!("bad e-mail: {other:?}"),
    }
    match stranger().create_offer(&offer_request(token)) {
        Err(e @ Error::Unauthorized(_)) => assert_rejected(&e, 401, "another public key"),
        other => panic!("another public key: {:?}", other.map(|_| ())),
    }
    assert_refused_before_io(
        client.create_offer(&format!(
            r#"{{"quote_token":"{token}","first_name":"Ada","last_name":"Lovelace","language":"de"}}"#
        )),
        "offer without email",
    );
}

#[test]
fn manual_underwriting_has_no_token_until_approved() {
    let client = client();
    let quote = client.create_quote(TRAVEL_QUOTE).expect("a quote");
    let request = offer_request(quote.token());
    let request = format!(
        "{},\"data\":{{\"manual_underwriting\":true}}}}",
        request.strip_suffix('}').unwrap()
    );
    let offer = client.create_offer(&request).expect("a manual offer");
    assert_eq!(offer.http_status(), Some(201));
    assert!(offer.id().starts_with("tpol_"), "{offer:?}");
    assert_eq!(offer.payment_token(), None, "no token yet");
    let pending = client.get_offer(offer.id()).expect("an offer view");
    assert_eq!(pending.id(), offer.id());
    assert_eq!(pending.status(), Some("pending"));
    assert_eq!(pending.payment_token(), None);
    // The answer holds the token: not printed.
    let (status, _) = http(
        "POST",
        &format!("/__sandbox/offers/{}/approve", offer.id()),
        "{}",
    );
    assert!(status.starts_with("HTTP/1.1 200"), "approve: {status}");
    let ready = client.get_offer(offer.id()).expect("an offer view");
    assert_eq!(ready.status(), Some("ready"));
    assert!(
        ready
            .payment_token()
            .is_some_and(|t| t.starts_with("ptok_")),
        "the approved offer has a token"
    );
}

#[test]
fn views_refuse_a_bad_id_before_io() {
    let client = client();
    assert_refused_before_io(client.get_offer("tpol_a/b"), "offer tpol_a/b");
    assert_refused_before_io(client.get_policy("tpol_a/b"), "policy tpol_a/b");
}

#[test]
fn resolve_after_a_dropped_deferred_create_is_pending_with_its_payment() {
    let client = client();
    let offer = checkout_offer(&client);
    let request = PaymentRequest::new(
        offer.payment_token().unwrap(),
        "deferred",
        "deferred",
        offer.id(),
    );
    arm_route_fault(offer.id(), "payment_create", r#"{"drop":"after_body"}"#, 1);
    match client.create_payment(&request) {
        Err(e @ Error::Network(_)) => assert_eq!(e.outcome(), Outcome::Unknown, "{e:?}"),
        other => panic!("the dropped create: {:?}", other.map(|_| ())),
    }
    let resolved = client.resolve_payment(&request).expect("a resolution");
    assert_eq!(resolved.state(), PaymentState::Pending, "{resolved:?}");
    assert!(!resolved.created_by_this_call(), "{resolved:?}");
    assert_eq!(resolved.policy_id(), offer.id());
    let payment_id = resolved
        .payment_id()
        .expect("the pending payment's id")
        .to_string();
    let token = offer.payment_token().unwrap();
    assert!(!resolved.json().contains(token) && !format!("{resolved:?}").contains(token));
    assert_eq!(payments_on(offer.id()), 1, "exactly one payment");
    let (_, counter) = http(
        "GET",
        &format!("/__sandbox/policies/{}/payments", offer.id()),
        "",
    );
    assert!(
        counter.contains(&format!("[\"{payment_id}\"]")),
        "that payment: {counter}"
    );
}
