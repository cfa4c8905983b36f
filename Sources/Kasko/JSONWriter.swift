/// Builds JSON text. Used for the library's own documents (error objects,
/// request bodies); server payloads are passed through as they arrived.
public enum JSONWriter {
    /// `value` as a JSON string literal, with every character JSON requires
    /// escaped (quotes, backslash, control characters).
    public static func quoted(_ value: String) -> String {
        var out = "\""
        out.reserveCapacity(value.utf8.count + 2)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
        return out
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
