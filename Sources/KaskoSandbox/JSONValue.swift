// Request bodies of the checkout routes, decoded so that their types can be
// told apart (an integer from a float or a boolean, [] from {}), and the
// caller's data and metadata can be echoed back as JSON.
//
// JSONSerialization would hand back NSNumbers that blur integers, floats
// and booleans; a Decodable enum keeps them apart.

import Foundation

enum JSONValue: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// The top-level object of a body, or nil when it is not a JSON object.
    static func object(_ body: [UInt8]) -> [String: JSONValue]? {
        guard !body.isEmpty else { return nil }
        return try? JSONDecoder().decode([String: JSONValue].self, from: Data(body))
    }

    /// Compact JSON text, object members sorted by name: the order of the
    /// caller's object is not kept by decoding, so a stable one is used.
    var text: String {
        var out = ""
        append(to: &out)
        return out
    }

    private func append(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let flag): out += flag ? "true" : "false"
        case .int(let number): out += String(number)
        case .number(let number): out += number.isFinite ? String(number) : "null"
        case .string(let text): JSON.appendString(text, to: &out)
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                item.append(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, name) in members.keys.sorted().enumerated() {
                if index > 0 { out += "," }
                JSON.appendString(name, to: &out)
                out += ":"
                members[name]?.append(to: &out)
            }
            out += "}"
        }
    }
}
