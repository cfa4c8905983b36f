/// The members of a result's JSON object, found by name: what the C API's
/// typed access reads (`kasko_result_member_*`). The object is indexed once
/// with the scanner the payment path uses (key and value positions, no
/// values built), and a lookup then parses only the one value asked for: a
/// caller reading "id" does not pay for a tree of the whole payment. A name
/// that appears twice has no one value, so it is reported as ambiguous
/// rather than answered with either copy.
public struct TopLevelMembers: Sendable {
    public enum Lookup: Equatable, Sendable {
        case absent
        case ambiguous
        case value(JSONValue)
    }

    private enum Key: Sendable {
        /// The key's bytes, when it has no escapes (the usual case).
        case plain(Range<Int>)
        case decoded(String)
    }

    /// A copy of the document: the index points into it.
    private let bytes: [UInt8]
    private let entries: [(key: Key, value: Range<Int>)]

    /// nil when `json` is not a JSON object.
    public init?(json: UnsafeBufferPointer<UInt8>) {
        let bytes = Array(json)
        guard let entries = bytes.withUnsafeBufferPointer({ TopLevelMembers.index($0) }) else { return nil }
        self.bytes = bytes
        self.entries = entries
    }

    public func lookup(_ name: String) -> Lookup {
        var name = name
        let found: Result<Range<Int>?, Ambiguity> = name.withUTF8 { wanted in
            var found: Range<Int>?
            for entry in entries where matches(entry.key, wanted) {
                if found != nil { return .failure(Ambiguity()) }
                found = entry.value
            }
            return .success(found)
        }
        switch found {
        case .failure: return .ambiguous
        case .success(nil): return .absent
        case .success(let range?):
            let value: JSONValue? = bytes.withUnsafeBufferPointer { buffer in
                try? JSONParser.parse(UnsafeBufferPointer(rebasing: buffer[range]))
            }
            // The index was made by the same grammar, so the value parses.
            return value.map { .value($0) } ?? .absent
        }
    }

    private struct Ambiguity: Error {}

    private func matches(_ key: Key, _ wanted: UnsafeBufferPointer<UInt8>) -> Bool {
        switch key {
        case .plain(let range):
            return range.count == wanted.count && bytes[range].elementsEqual(wanted)
        case .decoded(let text):
            var text = text
            return text.withUTF8 { $0.elementsEqual(wanted) }
        }
    }

    /// Each top-level member's key and value position; nil if `buffer` is
    /// not one JSON object.
    private static func index(_ buffer: UnsafeBufferPointer<UInt8>) -> [(key: Key, value: Range<Int>)]? {
        var cursor = JSONCursor(buffer: buffer)
        var entries: [(key: Key, value: Range<Int>)] = []
        var ignored = PaymentScan()
        ignored.watchesPolicyID = false
        do throws(JSONParseError) {
            cursor.skipWhitespace()
            guard cursor.peek() == UInt8(ascii: "{") else { return nil }
            cursor.position += 1
            cursor.skipWhitespace()
            if cursor.peek() == UInt8(ascii: "}") {
                cursor.position += 1
                try cursor.expectEnd()
                return entries
            }
            while true {
                cursor.skipWhitespace()
                guard cursor.peek() == UInt8(ascii: "\"") else { return nil }
                let keyStart = cursor.position
                let scanned = try cursor.scanString()
                let keyEnd = cursor.position
                cursor.skipWhitespace()
                guard cursor.peek() == UInt8(ascii: ":") else { return nil }
                cursor.position += 1
                cursor.skipWhitespace()
                let valueStart = cursor.position
                // Depth 1: the value is inside the top-level object.
                try cursor.scanValue(depth: 1, into: &ignored)
                let value = valueStart..<cursor.position
                switch scanned {
                case .plain(let range):
                    entries.append((.plain(range), value))
                default:
                    // Rare: an escaped key, decoded on its own.
                    guard case .string(let key) = try JSONParser.parse(UnsafeBufferPointer(rebasing: buffer[keyStart..<keyEnd])) else {
                        return nil
                    }
                    entries.append((.decoded(key), value))
                }
                cursor.skipWhitespace()
                switch cursor.peek() {
                case UInt8(ascii: ","):
                    cursor.position += 1
                case UInt8(ascii: "}"):
                    cursor.position += 1
                    try cursor.expectEnd()
                    return entries
                default:
                    return nil
                }
            }
        } catch {
            return nil
        }
    }

    /// A JSON number literal as an Int64, only when it is written as an
    /// integer (no fraction, no exponent) within range: nothing is rounded.
    public static func int64(_ literal: String) -> Int64? {
        guard !literal.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) else { return nil }
        return Int64(literal)
    }

    /// A JSON number literal as the nearest Double; nil if it overflows.
    public static func double(_ literal: String) -> Double? {
        guard let value = Double(literal), value.isFinite else { return nil }
        return value
    }
}
