//! A minimal reader of the library's error object: it finds one member of
//! the top-level JSON object so that [`Error`](crate::Error) can offer typed
//! accessors. It reads; it does not validate (the library has done that).

/// The raw text of member `key` of the top-level object, if there is one.
pub(crate) fn member<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let bytes = json.as_bytes();
    let mut i = skip_space(bytes, 0);
    if bytes.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_space(bytes, i);
        if bytes.get(i) != Some(&b'"') {
            return None;
        }
        let key_start = i;
        i = skip_value(bytes, i)?;
        let name = string(&json[key_start..i]);
        i = skip_space(bytes, i);
        if bytes.get(i) != Some(&b':') {
            return None;
        }
        i = skip_space(bytes, i + 1);
        let value_start = i;
        i = skip_value(bytes, i)?;
        if name.as_deref() == Some(key) {
            return Some(&json[value_start..i]);
        }
        i = skip_space(bytes, i);
        if bytes.get(i) != Some(&b',') {
            return None;
        }
        i += 1;
    }
}

/// The decoded text of a raw JSON string, or `None` if `raw` is not one.
pub(crate) fn string(raw: &str) -> Option<String> {
    let inner = raw.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            '/' => out.push('/'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'u' => {
                let high = hex4(&mut chars)?;
                let code = if (0xD800..0xDC00).contains(&high) {
                    let rest = chars.as_str();
                    match rest.strip_prefix("\\u").and_then(|r| hex4(&mut r.chars())) {
                        Some(low) if (0xDC00..0xE000).contains(&low) => {
                            chars = rest[6..].chars();
                            0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                        }
                        _ => high,
                    }
                } else {
                    high
                };
                out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
            }
            _ => return None,
        }
    }
    Some(out)
}

/// The value of a raw JSON non-negative integer, or `None` (null, or not one).
pub(crate) fn integer(raw: &str) -> Option<u16> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok()
}

fn hex4(chars: &mut std::str::Chars<'_>) -> Option<u32> {
    let mut value = 0;
    for _ in 0..4 {
        value = value * 16 + chars.next()?.to_digit(16)?;
    }
    Some(value)
}

fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while matches!(bytes.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// The index just past the value (string, object, array or scalar) at `i`.
fn skip_value(bytes: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    loop {
        match *bytes.get(i)? {
            b'"' => {
                i += 1;
                loop {
                    match *bytes.get(i)? {
                        b'"' => break,
                        b'\\' => i += 2,
                        _ => i += 1,
                    }
                }
                i += 1;
            }
            b'{' | b'[' => {
                depth += 1;
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.checked_sub(1)?;
                i += 1;
            }
            _ if depth > 0 => i += 1,
            _ => {
                let start = i;
                while !matches!(
                    bytes.get(i),
                    None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                ) {
                    i += 1;
                }
                if i == start {
                    return None;
                }
            }
        }
        if depth == 0 {
            return Some(i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_top_level_members_only() {
        let json = r#"{ "object" : "error", "errors":[{"message":"inner","x":[1,{}]}],
            "status":"a \"http_status\":500 \\", "http_status" : 422 ,
            "message":"caf\u00e9 \ud83d\ude00 \"q\" \n","pending_payment_id":"t1","n":null}"#;
        assert_eq!(member(json, "http_status").and_then(integer), Some(422));
        assert_eq!(
            member(json, "message").and_then(string).as_deref(),
            Some("caf\u{e9} \u{1F600} \"q\" \n")
        );
        assert_eq!(
            member(json, "pending_payment_id")
                .and_then(string)
                .as_deref(),
            Some("t1")
        );
        assert_eq!(member(json, "n"), Some("null"));
        assert_eq!(member(json, "n").and_then(string), None);
        assert_eq!(member(json, "n").and_then(integer), None);
        assert_eq!(member(json, "absent"), None);
    }

    #[test]
    fn survives_malformed_text() {
        for json in [
            "",
            "{",
            "[1]",
            "{\"a\"",
            "{\"a\":",
            "{\"a\":\"x",
            "{\"a\":]",
            "\"\\",
        ] {
            assert_eq!(member(json, "a"), None, "{json}");
        }
        assert_eq!(string("\"\\u12\""), None);
        assert_eq!(string("\"\\ud800x\"").as_deref(), Some("\u{FFFD}x"));
    }
}
