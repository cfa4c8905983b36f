/// Builds JSON text. Used for the library's own documents (error objects,
/// request bodies); server payloads are passed through as they arrived.
public enum JSONWriter {
    /// `value` as a JSON string literal, with every character JSON requires
    /// escaped (quotes, backslash, control characters).
    public static func quoted(_ value: String) -> String {
        // Most values need no escaping: skip the byte-by-byte rebuild.
        if !value.utf8.contains(where: needsEscape) {
            return "\"" + value + "\""
        }
        var bytes: [UInt8] = []
        appendQuoted(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `value` as a JSON string literal to UTF-8 bytes.
    public static func appendQuoted(_ value: String, to bytes: inout [UInt8]) {
        var value = value
        value.withUTF8 { appendQuoted(utf8: $0, to: &bytes) }
    }

    static func appendQuoted(utf8 value: UnsafeBufferPointer<UInt8>, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        // Most values need no escaping: one bulk copy.
        if !value.contains(where: needsEscape) {
            bytes.append(contentsOf: value)
            bytes.append(UInt8(ascii: "\""))
            return
        }
        bytes.reserveCapacity(bytes.count + value.count + 1)
        for byte in value {
            guard needsEscape(byte) else {
                bytes.append(byte)
                continue
            }
            bytes.append(UInt8(ascii: "\\"))
            switch byte {
            case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\"))
            case 0x0A: bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "t"))
            case 0x08: bytes.append(UInt8(ascii: "b"))
            case 0x0C: bytes.append(UInt8(ascii: "f"))
            default:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                          hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]])
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    @inline(__always)
    static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    /// Serialises a parsed value (used to pass a server's `errors` array on).
    public static func serialize(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .number(let literal): return literal
        case .string(let string): return quoted(string)
        case .array(let elements):
            return "[" + elements.map(serialize).joined(separator: ",") + "]"
        case .object(let members):
            return "{" + members.map { quoted($0.key) + ":" + serialize($0.value) }.joined(separator: ",") + "}"
        }
    }
}

/// An object written member by member, in order.
public struct JSONObjectWriter {
    private var body = ""

    public init() {}

    public mutating func add(_ key: String, string value: String?) {
        append(key, value.map(JSONWriter.quoted) ?? "null")
    }

    public mutating func add(_ key: String, int value: Int?) {
        append(key, value.map { String($0) } ?? "null")
    }

    public mutating func add(_ key: String, bool value: Bool) {
        append(key, value ? "true" : "false")
    }

    /// `json` must already be valid JSON text.
    public mutating func add(_ key: String, rawJSON json: String) {
        append(key, json)
    }

    private mutating func append(_ key: String, _ valueText: String) {
        if !body.isEmpty { body += "," }
        body += JSONWriter.quoted(key) + ":" + valueText
    }

    public var text: String { "{" + body + "}" }
}

/// An object written member by member, in order, straight into UTF-8
/// bytes: for the events of a hook, written twice or more per call, where
/// building the text by string appends cost more than the call's own JSON
/// work. Keys are literals the library chooses (ASCII, nothing to escape).
public struct JSONObjectBytes {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes.append(UInt8(ascii: "{"))
    }

    public mutating func add(_ key: StaticString, string value: String?) {
        self.key(key)
        if let value {
            JSONWriter.appendQuoted(value, to: &bytes)
        } else {
            appendNull()
        }
    }

    public mutating func add(_ key: StaticString, int value: Int64?) {
        self.key(key)
        guard let value else { return appendNull() }
        // Digits least significant first into a stack buffer, then one copy.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var magnitude = value.magnitude
            var start = digits.count
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 { bytes.append(UInt8(ascii: "-")) }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    public mutating func add(_ key: StaticString, int value: Int?) {
        add(key, int: value.map { Int64($0) })
    }

    public mutating func add(_ key: StaticString, bool value: Bool) {
        self.key(key)
        appendASCII(value ? "true" : "false")
    }

    /// The finished object's bytes.
    public mutating func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    private mutating func key(_ key: StaticString) {
        if bytes.count > 1 { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        appendASCII(key)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    private mutating func appendNull() { appendASCII("null") }

    private mutating func appendASCII(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }
}
