//! Tests of the `kasko` crate against a running kasko-sandbox
//! (`KASKO_SANDBOX_URL`, as `scripts/with-sandbox` sets it).
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use kasko::{Client, Error};

fn env(name: &str, fallback: Option<&str>) -> String {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => value,
        _ => fallback
            .map(str::to_string)
            .unwrap_or_else(|| panic!("{name} is not set: run me under scripts/with-sandbox")),
    }
}

fn sandbox_url() -> String {
    env("KASKO_SANDBOX_URL", None)
}

/// The string member `key` of a flat JSON object (test data only: ids are
/// plain ASCII, so no unescaping is needed).
fn field(json: &str, key: &str) -> String {
    let pattern = format!("\"{key}\":\"");
    let start = json
        .find(&pattern)
        .unwrap_or_else(|| panic!("no {key:?} in {json}"))
        + pattern.len();
    let end = json[start..]
        .find('"')
        .unwrap_or_else(|| panic!("unterminated {key:?} in {json}"));
    json[start..start + end].to_string()
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
    let mut response = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).expect("read the sandbox's answer");
        if n == 0 {
            break;
        }
        response.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&response);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .expect("a Content-Length");
            if response.len() >= end + 4 + length {
                break;
            }
        }
    }
    let text = String::from_utf8(response).expect("UTF-8");
    assert!(text.starts_with("HTTP/1.1 201"), "offer: {text}");
    let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
    Offer {
        policy_id: field(body, "policy_id"),
        token: field(body, "token"),
    }
}

fn request(offer: &Offer, provider: &str) -> String {
    format!(
        r#"{{"token":"{}","provider":"{provider}","method":"{provider}","policy_id":"{}"}}"#,
        offer.token, offer.policy_id
    )
}

fn config(with_secret: bool) -> String {
    let secret = if with_secret {
        format!(
            r#","secret_key":"{}""#,
            env("KASKO_SANDBOX_SECRET_KEY", Some("sk_test_sandbox"))
        )
    } else {
        String::new()
    };
    format!(
        r#"{{"public_key":"{}"{secret},"base_url":"{}","max_retries":0}}"#,
        env("KASKO_SANDBOX_PUBLIC_KEY", Some("pk_test_sandbox")),
        sandbox_url()
    )
}

fn client() -> Client {
    Client::new(&config(true)).expect("a client")
}

const UNKNOWN_ID: &str = "t00000000000000000000000000000000";

#[test]
fn create_a_payment_then_view_it() {
    let client = client();
    let created = client
        .create_payment(&request(&new_offer(), "invoice"))
        .expect("create");
    assert!(created.contains(r#""object":"payment""#), "{created}");
    let id = field(&created, "id");
    let viewed = client.get_payment(&id).expect("view");
    assert_eq!(field(&viewed, "id"), id);
    assert_eq!(
        field(&viewed, "status"),
        "ok",
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
}

#[test]
fn a_pending_payment_blocks_another() {
    let client = client();
    let offer = new_offer();
    let pending = field(
        &client
            .create_payment(&request(&offer, "deferred"))
            .expect("create"),
        "id",
    );
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
}

#[test]
fn a_request_without_a_field_is_invalid() {
    let offer = new_offer();
    let incomplete = format!(
        r#"{{"token":"{}","provider":"invoice","policy_id":"{}"}}"#,
        offer.token, offer.policy_id
    );
    let error = client().create_payment(&incomplete).unwrap_err();
    assert!(matches!(error, Error::InvalidArgument(_)), "{error:?}");
    assert_eq!(error.http_status(), None);
    assert!(
        error.message().contains("method"),
        "the message names the field: {error}"
    );
}

#[test]
fn a_nul_character_is_refused_not_truncated() {
    let error = client().get_payment("t123\0../x").unwrap_err();
    assert!(matches!(error, Error::InvalidArgument(_)), "{error:?}");
    assert!(error.message().contains("NUL"), "{error}");
}

#[test]
fn a_bad_configuration_is_invalid() {
    let error = Client::new(r#"{"public_key":"pk_test_x","typo":1}"#).unwrap_err();
    assert!(matches!(error, Error::InvalidArgument(_)), "{error:?}");
    assert_eq!(error.http_status(), None);
    assert!(
        error.json().contains(r#""object":"error""#),
        "{}",
        error.json()
    );
}

#[test]
fn without_a_secret_key_a_view_is_unauthorized() {
    let client = Client::new(&config(false)).expect("a client");
    let created = client
        .create_payment(&request(&new_offer(), "invoice"))
        .expect("create");
    let error = client.get_payment(&field(&created, "id")).unwrap_err();
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
    let rounds = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                for _ in 0..3 {
                    let id = field(
                        &client
                            .create_payment(&request(&new_offer(), "invoice"))
                            .unwrap(),
                        "id",
                    );
                    assert_eq!(field(&client.get_payment(&id).unwrap(), "id"), id);
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
