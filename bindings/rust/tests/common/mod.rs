//! What the integration tests share (each tests/*.rs is a crate of its own).

/// The environment variable `name`, else `fallback`; a test run outside
/// scripts/with-sandbox stops here, saying so.
pub fn env(name: &str, fallback: Option<&str>) -> String {
    match std::env::var(name) {
        Ok(value) if !value.is_empty() => value,
        _ => fallback
            .map(str::to_string)
            .unwrap_or_else(|| panic!("{name} is not set: run me under scripts/with-sandbox")),
    }
}
