/// A KASKO API key. Keys are `pk_` (publishable) or `sk_` (secret), then
/// `test_` or `live_`, then letters and digits. Error messages about a key
/// never quote it: a secret key must not reach a log through an error.
public struct APIKey: Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        case publishable, secret
        var prefix: String { self == .publishable ? "pk_" : "sk_" }
    }

    public enum Mode: String, Sendable {
        case test, live
    }

    public let kind: Kind
    public let mode: Mode
    /// The key itself, wiped when the last owner lets go. Only the transport
    /// reads it.
    let bytes: SecretBytes

    init(_ json: JSONValue, field: String, kind: Kind) throws(KaskoError) {
        guard case .string(let key) = json else {
            throw .invalidArgument("\(field) must be a string, got \(json.typeName)")
        }
        if let index = key.unicodeScalars.firstIndex(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) {
            let position = key.unicodeScalars.distance(from: key.unicodeScalars.startIndex, to: index)
            throw .invalidArgument("\(field) contains whitespace or a control character at position \(position)")
        }
        let otherPrefix = kind == .publishable ? "sk_" : "pk_"
        if key.hasPrefix(otherPrefix) {
            throw .invalidArgument(
                kind == .publishable
                    ? "public_key holds a secret key (sk_...); pass it as secret_key, never as public_key"
                    : "secret_key holds a publishable key (pk_...); pass it as public_key")
        }
        let mode: Mode
        if key.hasPrefix(kind.prefix + "test_") {
            mode = .test
        } else if key.hasPrefix(kind.prefix + "live_") {
            mode = .live
        } else {
            throw .invalidArgument("\(field) must start with \(kind.prefix)test_ or \(kind.prefix)live_")
        }
        let body = key.utf8.dropFirst(kind.prefix.utf8.count + 5)
        guard !body.isEmpty, body.count <= 200 else {
            throw .invalidArgument("\(field) must have 1 to 200 letters or digits after \(kind.prefix)\(mode.rawValue)_")
        }
        guard body.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) }) else {
            throw .invalidArgument("\(field) may hold only letters and digits after \(kind.prefix)\(mode.rawValue)_")
        }
        self.kind = kind
        self.mode = mode
        self.bytes = SecretBytes(key)
    }

    /// The key as text. Only for publishable keys, which go into URLs anyway.
    var publishableText: String? {
        kind == .publishable ? bytes.withBytes { String(decoding: $0, as: UTF8.self) } : nil
    }

    /// Redacted, so that printing a configuration cannot leak a key.
    public var description: String { "\(kind.prefix)\(mode.rawValue)_…" }

    /// Which key this is, for a message about a refused credential:
    /// `sk_test_…abcd`, the last four characters after the prefix, or only
    /// `sk_test_…` for a key shorter than 12 characters after it (four would
    /// then be too large a share of it). Never the key.
    var hint: String {
        bytes.withBytes { key in
            let body = key.count - (kind.prefix.utf8.count + mode.rawValue.utf8.count + 1)
            guard body >= 12 else { return description }
            return description + String(decoding: key.suffix(4), as: UTF8.self)
        }
    }
}
