/// Takes the client's keys and a call's payment token out of text that came
/// from a server before it reaches the caller. A gateway that echoes the
/// Authorization header, or an API that quotes the token back in a message,
/// must not put a secret into the error object that users log.
struct Redactor {
    static let marker = "[redacted]"

    /// The client's keys, read in place: no copy of a key is made.
    private let keys: [SecretBytes]
    /// A call's secrets as they are, and in every JSON spelling.
    private let plainSecrets: [[UInt8]]
    private let callSecretTexts: [String]

    /// The keys of a configuration plus a call's own secrets (its token),
    /// each also as JSON may spell it: a server that quotes the raw request
    /// body back, or re-encodes the token in its own JSON (ASCII-only
    /// `\u00e4`, PHP's `\/`), puts those spellings into its message. Keys are
    /// letters, digits and '_', the same in every spelling.
    ///
    /// Every spelling but the plain one has a backslash, so the spellings
    /// are made only for a text that has one: a request id on success, or a
    /// message without escapes, costs a plain search.
    init(configuration: Configuration, callSecrets: [String] = []) {
        keys = [configuration.publicKey.bytes] + (configuration.secretKey.map { [$0.bytes] } ?? [])
        callSecretTexts = callSecrets.filter { !$0.isEmpty }
        plainSecrets = callSecretTexts.map { Array($0.utf8) }
    }

    /// The call's secrets to look for in a text: as they are, plus their
    /// escaped spellings when the text has a backslash.
    private func callSecrets(for text: [UInt8]) -> [[UInt8]] {
        guard text.contains(UInt8(ascii: "\\")) else { return plainSecrets }
        var spellings: [[UInt8]] = []
        for secret in callSecretTexts {
            for spelling in Redactor.jsonSpellings(secret) where !spellings.contains(spelling) {
                spellings.append(spelling)
            }
        }
        return spellings
    }

    /// `text` as it appears between the quotes of a JSON string, in the
    /// common encoders' styles: raw UTF-8 or `\uXXXX` (lower- or upper-case
    /// hex, surrogate pairs beyond U+FFFF), with `/` as is or as `\/`.
    static func jsonSpellings(_ text: String) -> [[UInt8]] {
        var result: [[UInt8]] = [Array(text.utf8)]
        for asciiOnly in [false, true] {
            for upperHex in asciiOnly ? [false, true] : [false] {
                for escapeSlash in [false, true] {
                    var bytes: [UInt8] = []
                    for scalar in text.unicodeScalars {
                        appendSpelling(of: scalar, asciiOnly: asciiOnly, upperHex: upperHex, escapeSlash: escapeSlash, to: &bytes)
                    }
                    if !result.contains(bytes) { result.append(bytes) }
                }
            }
        }
        return result
    }

    private static func appendSpelling(
        of scalar: Unicode.Scalar, asciiOnly: Bool, upperHex: Bool, escapeSlash: Bool, to bytes: inout [UInt8]
    ) {
        func escape(_ unit: UInt16) {
            let digits = Array((upperHex ? "0123456789ABCDEF" : "0123456789abcdef").utf8)
            bytes += [UInt8(ascii: "\\"), UInt8(ascii: "u")]
            for shift in [12, 8, 4, 0] { bytes.append(digits[Int((unit >> UInt16(shift)) & 0xF)]) }
        }
        switch scalar {
        case "\"": bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
        case "\\": bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
        case "/" where escapeSlash: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "/")]
        case _ where scalar.value < 0x20: escape(UInt16(scalar.value))
        case _ where scalar.isASCII || !asciiOnly: bytes += Array(String(scalar).utf8)
        default: UTF16.encode(scalar).map { $0.forEach(escape) }
        }
    }

    func redact(_ text: String) -> String {
        // A text shorter than every secret holds none (a request id, usually).
        // (Closures, not key paths: a key path is built by the runtime on first
        // use, which helgrind cannot see synchronised.)
        // Counted in loops, not by mapping into arrays: this runs for every
        // typed success's request id.
        var shortest = Int.max
        for key in keys where key.count < shortest { shortest = key.count }
        for secret in plainSecrets where secret.count < shortest { shortest = secret.count }
        if keys.isEmpty { shortest = 0 }
        guard text.utf8.count >= shortest else { return text }
        var bytes = Array(text.utf8)
        let callSecrets = callSecrets(for: bytes)
        // Longest secret first, so that a secret containing another is replaced whole.
        let order = (keys.map { $0.count } + callSecrets.map { $0.count }).enumerated()
            .sorted { $0.element > $1.element }.map { $0.offset }
        var changed = false
        for index in order {
            let replaced = index < keys.count
                ? keys[index].withBytes { Redactor.replace($0, in: &bytes) }
                : Redactor.replace(callSecrets[index - keys.count], in: &bytes)
            changed = changed || replaced
        }
        return changed ? String(decoding: bytes, as: UTF8.self) : text
    }

    /// A response's request id as a caller is shown it, on success or
    /// failure: redacted, then cut to `KaskoError.maximumRequestIDBytes`
    /// (cut after: a cut first could leave part of a secret).
    func requestID(_ text: String) -> String {
        KaskoError.prefix(redact(text), bytes: KaskoError.maximumRequestIDBytes)
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
        let count = secret.count
        func matches(_ text: [UInt8], at index: Int) -> Bool {
            text[index] == first && text.count - index >= count && text[index..<(index + count)].elementsEqual(secret)
        }
        // Most texts hold no secret (every success's request id is searched):
        // nothing is built until one is found.
        guard var index = bytes.indices.first(where: { matches(bytes, at: $0) }) else { return false }
        var output = Array(bytes[..<index])
        while index < bytes.count {
            if matches(bytes, at: index) {
                output.append(contentsOf: marker.utf8)
                index += count
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        bytes = output
        return true
    }
}
