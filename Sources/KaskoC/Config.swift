import Kasko

/// What a `kasko_config *` points at.
final class ConfigBox {
    var builder = ConfigurationBuilder()

    static func borrow(_ pointer: UnsafeRawPointer?) -> ConfigBox? {
        pointer.map { Unmanaged<ConfigBox>.fromOpaque($0).takeUnretainedValue() }
    }
}

/// Makes an empty client configuration, to be set key by key. It is filled
/// with kasko_config_set_string() and kasko_config_set_int() and turned into
/// a client by kasko_client_new_from_config(): the same keys, defaults and
/// checks as the JSON configuration of kasko_client_new(), without writing
/// JSON (the library escapes every value).
///
/// A setter given an unknown key, or a key of the other type, returns
/// KASKO_ERR_INVALID_ARGUMENT and remembers why: the client is then refused
/// with that message, until the key is set again correctly; so the setters'
/// statuses may be ignored. Values are checked when the client is made,
/// with the messages of kasko_client_new().
///
/// Ownership: the caller owns the configuration and frees it with
/// kasko_config_free(); it may be freed as soon as the client is made (the
/// client keeps what it needs). It holds a copy of the keys it was given
/// until then.
/// Thread-safety: one thread at a time while it is being set; many threads
/// may make clients from it at once afterwards.
/// Returns NULL only if memory ran out.
/// Added in 1.1.0.
@c(kasko_config_new)
public func kasko_config_new() -> OpaquePointer? {
    OpaquePointer(Unmanaged.passRetained(ConfigBox()).toOpaque())
}

/// Frees a configuration made by kasko_config_new().
///
/// Ownership: takes ownership of `config`. Passing NULL does nothing.
/// Thread-safety: no other thread may be using it.
/// Added in 1.1.0.
@c(kasko_config_free)
public func kasko_config_free(_ config: OpaquePointer?) {
    guard let config else { return }
    Unmanaged<ConfigBox>.fromOpaque(UnsafeRawPointer(config)).release()
}

/// Sets a string key of the configuration. The string keys are "public_key",
/// "secret_key", "base_url", "ca_bundle", "proxy" and "user_agent"
/// (libkasko(3) says what each means, and what it accepts). `value` is
/// NUL-terminated UTF-8 and is copied; NULL removes the key, a number key too
/// (its default applies again).
///
/// Thread-safety: not while another thread uses `config`.
/// Returns KASKO_OK; KASKO_ERR_INVALID_ARGUMENT for NULL `config` or `key`,
/// an unknown key, a number key (set it with kasko_config_set_int()), or a
/// value that is not UTF-8 or over 64 KiB (remembered: see
/// kasko_config_new()).
/// Added in 1.1.0.
@c(kasko_config_set_string)
@discardableResult
public func kasko_config_set_string(
    _ config: OpaquePointer?, _ key: UnsafePointer<CChar>?, _ value: UnsafePointer<CChar>?
) -> KaskoCStatus {
    change(config, key) { (builder: inout ConfigurationBuilder, name: String) throws(KaskoError) in
        let text: String?
        do throws(KaskoError) {
            text = try value.map { pointer throws(KaskoError) in
                try CStrings.read(pointer, name: "configuration key \"\(name)\"", limit: CStrings.maximumDocumentBytes)
            }
        } catch {
            builder.refuse(name, because: error)
            throw error
        }
        try builder.set(name, string: text)
    }
}

/// Sets a number key of the configuration. The number keys are "timeout_ms",
/// "connect_timeout_ms" and "max_retries" (libkasko(3) gives their meanings,
/// defaults and ranges, which are checked when the client is made).
///
/// Thread-safety: not while another thread uses `config`.
/// Returns KASKO_OK; KASKO_ERR_INVALID_ARGUMENT for NULL `config` or `key`,
/// an unknown key, or a string key (set it with kasko_config_set_string())
/// (remembered: see kasko_config_new()).
/// Added in 1.1.0.
@c(kasko_config_set_int)
@discardableResult
public func kasko_config_set_int(_ config: OpaquePointer?, _ key: UnsafePointer<CChar>?, _ value: CLong) -> KaskoCStatus {
    change(config, key) { (builder: inout ConfigurationBuilder, name: String) throws(KaskoError) in
        try builder.set(name, integer: value)
    }
}

/// Creates a client from a configuration made with kasko_config_new(). It
/// does what kasko_client_new_v2() does from JSON: the same checks, the
/// same messages, a refusal reported as a result.
///
/// On KASKO_OK, `*out_client` is the new client and `*out_result` (if
/// `out_result` is not NULL) is set to NULL. On failure, `*out_client` is
/// NULL and `*out_result` is the error result, never NULL (if memory ran
/// out, it is a static KASKO_ERR_INTERNAL result); its message never quotes
/// a key.
///
/// Ownership: the caller owns the client (kasko_client_free()) and the
/// result (kasko_result_free()); `config` stays the caller's.
/// Thread-safety: as kasko_client_new().
///
/// Returns KASKO_OK; KASKO_ERR_INVALID_ARGUMENT (NULL `config` or
/// `out_client`, a refused key, a missing or malformed value: see
/// kasko_client_new()); KASKO_ERR_INTERNAL.
/// Added in 1.1.0.
@c(kasko_client_new_from_config)
public func kasko_client_new_from_config(
    _ config: UnsafeRawPointer?,
    _ out_client: UnsafeMutablePointer<OpaquePointer?>?,
    _ out_result: UnsafeMutablePointer<OpaquePointer?>?
) -> KaskoCStatus {
    CallResult.handRefusal(makeClient(out_client) { () throws(KaskoError) in
        guard let box = ConfigBox.borrow(config) else { throw .invalidArgument("config is NULL") }
        return try KaskoClient(configuration: try box.builder.configuration())
    }, to: out_result)
}

private func change(
    _ config: OpaquePointer?, _ key: UnsafePointer<CChar>?,
    _ set: (inout ConfigurationBuilder, String) throws(KaskoError) -> Void
) -> KaskoCStatus {
    guard let box = ConfigBox.borrow(config.map { UnsafeRawPointer($0) }) else { return .errInvalidArgument }
    let name: String
    do throws(KaskoError) {
        name = try CStrings.read(key, name: "a configuration key", limit: 256)
    } catch {
        // Remembered like any refusal: the client is not made without it.
        box.builder.refuse("", because: error)
        return KaskoCStatus(error.status)
    }
    do throws(KaskoError) {
        try set(&box.builder, name)
        return .ok
    } catch {
        return KaskoCStatus(error.status)
    }
}
