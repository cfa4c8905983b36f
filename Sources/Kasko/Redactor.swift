/// Takes the client's keys and a call's payment token out of text that came
/// from a server before it reaches the caller. A gateway that echoes the
/// Authorization header, or an API that quotes the token back in a message,
/// must not put a secret into the error object that users log.
struct Redactor {
    static let marker = "[redacted]"

    /// The client's keys, read in place: no copy of a key is made.
    private let keys: [SecretBytes]
    private let callSecrets: [[UInt8]]

    /// The keys of a configuration plus a call's own secrets (its token).
    init(configuration: Configuration, callSecrets: [String] = []) {
        keys = [configuration.publicKey.bytes] + (configuration.secretKey.map { [$0.bytes] } ?? [])
        self.callSecrets = callSecrets.map { Array($0.utf8) }.filter { !$0.isEmpty }
    }

    func redact(_ text: String) -> String {
        var bytes = Array(text.utf8)
        var changed = false
        // Longest first, so that a secret containing another goes whole.
        let order = (keys.map { $0.count } + callSecrets.map { $0.count }).enumerated().sorted { $0.element > $1.element }
        for (index, _) in order {
            let replaced = index < keys.count
                ? keys[index].withBytes { Redactor.replace($0, in: &bytes) }
                : Redactor.replace(callSecrets[index - keys.count], in: &bytes)
            changed = changed || replaced
        }
        return changed ? String(decoding: bytes, as: UTF8.self) : text
    }

    func redact(_ text: String?) -> String? {
        text.map { redact($0) }
    }

    /// Every string of a parsed document, keys included.
    func redact(_ value: JSONValue) -> JSONValue {
        switch value {
        case .null, .bool, .number: return value
        case .string(let text): return .string(redact(text))
        case .array(let elements): return .array(elements.map { redact($0) })
        case .object(let members):
            return .object(members.map { JSONMember(key: redact($0.key), value: redact($0.value)) })
        }
    }

    /// Replaces every occurrence of `secret` in `bytes`; whether there was one.
    private static func replace<Secret: Collection>(_ secret: Secret, in bytes: inout [UInt8]) -> Bool
    where Secret.Element == UInt8 {
        guard !secret.isEmpty, bytes.count >= secret.count, let first = secret.first else { return false }
        var output: [UInt8] = []
        var found = false
        var index = 0
        while index < bytes.count {
            if bytes[index] == first, bytes.count - index >= secret.count,
               bytes[index..<(index + secret.count)].elementsEqual(secret) {
                output.append(contentsOf: marker.utf8)
                index += secret.count
                found = true
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        if found { bytes = output }
        return found
    }
}
