//! kasko::verify_webhook (C API 1.3): the wider-API reference's test vector
//! (section 6.3, all three lines), tampering, NUL bytes, hex case, malformed
//! headers, NULs, threads. No sandbox needed.

use kasko::{verify_webhook, Error};

const SECRET: &str = "whsec_test_secret";
const BODY: &[u8] =
    br#"{"id":"tpol_0000000000000000000000000000","livemode":false,"policy_id":"TEST-POLICY-12345"}"#;
const SIGNATURE: &str = "sha1=bed331ec2031e668907869f5ed39cf12136167a9";

#[test]
fn the_reference_vector_all_three_lines() {
    assert_eq!(BODY.len(), 91);
    verify_webhook(SECRET, BODY, SIGNATURE).unwrap();
    let mut with_newline = BODY.to_vec();
    with_newline.push(b'\n');
    verify_webhook(
        SECRET,
        &with_newline,
        "sha1=f42fe9d573c1ddf6f388aeb10c6e9330a07e1320",
    )
    .unwrap();
    verify_webhook(
        "test_secret",
        BODY,
        "sha1=b99e8a97c5f8540099eae9ce852cd1c0fc335295",
    )
    .unwrap();
}

fn bad_signature(result: Result<(), Error>) {
    match result {
        Err(Error::BadSignature(details)) => {
            assert_eq!(details.code(), "KASKO_ERR_BAD_SIGNATURE");
            assert!(details.message().contains("X-KASKO-Signature"));
            assert!(!details.message().contains(SECRET));
        }
        other => panic!("expected BadSignature, got {other:?}"),
    }
}

fn invalid(result: Result<(), Error>, what: &str) {
    assert!(
        matches!(result, Err(Error::InvalidArgument(_))),
        "{what}: {result:?}"
    );
}

#[test]
fn a_changed_body_secret_or_length_is_a_bad_signature() {
    let mut with_newline = BODY.to_vec();
    with_newline.push(b'\n');
    bad_signature(verify_webhook(SECRET, &with_newline, SIGNATURE));
    bad_signature(verify_webhook(SECRET, &BODY[..90], SIGNATURE));
    bad_signature(verify_webhook("test_secret", BODY, SIGNATURE));
    bad_signature(verify_webhook("whsec_test_secreT", BODY, SIGNATURE));
    bad_signature(verify_webhook(
        SECRET,
        BODY,
        "sha1=bed331ec2031e668907869f5ed39cf12136167a8",
    ));
    bad_signature(verify_webhook(SECRET, b"", SIGNATURE));
    let error = verify_webhook(SECRET, &with_newline, SIGNATURE).unwrap_err();
    assert_eq!(error.status(), kasko::sys::KASKO_ERR_BAD_SIGNATURE);
    assert_eq!(error.code(), "KASKO_ERR_BAD_SIGNATURE");
}

#[test]
fn nul_bytes_in_the_body_count_and_hex_case_does_not() {
    let body: &[u8] = b"{\"a\":\"x\0y\"}\0tail";
    assert_eq!(body.len(), 16);
    verify_webhook(SECRET, body, "sha1=64b69479808ca69a18e0c186d6059958e972b6c1").unwrap();
    bad_signature(verify_webhook(
        SECRET,
        &body[..7],
        "sha1=64b69479808ca69a18e0c186d6059958e972b6c1",
    ));
    verify_webhook(SECRET, BODY, &SIGNATURE.to_uppercase().replacen("SHA1=", "sha1=", 1)).unwrap();
    verify_webhook(SECRET, b"", "sha1=2f0bd1d2d712bf4a22d695e03115fa82101d175e").unwrap();
}

#[test]
fn malformed_headers_empty_secrets_and_nuls_are_invalid_arguments() {
    let digits = &SIGNATURE[5..];
    let headers = [
        String::new(),
        digits.to_string(),
        format!("SHA1={digits}"),
        format!("sha256={digits}"),
        format!("sha1:{digits}"),
        SIGNATURE[..44].to_string(),
        format!("{SIGNATURE}0"),
        format!("{}g", &SIGNATURE[..44]),
        format!(" {SIGNATURE}"),
        format!("{SIGNATURE} "),
        format!("{}\u{e9}", &SIGNATURE[..44]),
    ];
    for header in &headers {
        invalid(verify_webhook(SECRET, BODY, header), header);
    }
    invalid(verify_webhook("", BODY, SIGNATURE), "empty secret");
    let error = verify_webhook(SECRET, BODY, &format!("{SIGNATURE}\0junk")).unwrap_err();
    assert!(matches!(error, Error::InvalidArgument(_)), "{error:?}");
    assert!(error.message().contains("NUL"), "{}", error.message());
    invalid(
        verify_webhook("whsec_test_secret\0more", BODY, SIGNATURE),
        "NUL in the secret",
    );
}

#[test]
fn many_threads_at_once() {
    let threads: Vec<_> = (0..8)
        .map(|_| {
            std::thread::spawn(|| {
                (0..200)
                    .filter(|i| {
                        if i % 2 == 0 {
                            verify_webhook(SECRET, BODY, SIGNATURE).is_ok()
                        } else {
                            matches!(
                                verify_webhook(SECRET, &BODY[1..], SIGNATURE),
                                Err(Error::BadSignature(_))
                            )
                        }
                    })
                    .count()
            })
        })
        .collect();
    let right: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(right, 1600);
}
