/// The members of a result's JSON object, found by name: what the C API's
/// typed access reads (`kasko_result_member_*`). The index (where each
/// top-level key and value is) comes from the payment scanner, in the same
/// pass that validates a success, so a typed result costs no second scan;
/// a lookup parses only the one value asked for. A name that appears twice
/// has no one value, so it is reported as ambiguous rather than answered
/// with either copy.
public struct TopLevelMembers: Sendable {
    public enum Lookup: Equatable, Sendable {
        case absent
        case ambiguous
        case value(JSONValue)
    }

    /// One member's place in the document.
    public struct Entry: Sendable {
        /// The key's characters when it has no escapes; with escapes, the
        /// whole quoted key, decoded when the index is made.
        let key: Range<Int>
        let keyIsEscaped: Bool
        let value: Range<Int>
    }

    /// The document, in storage of its own: the index points into it.
    private let bytes: [UInt8]
    private let entries: [Entry]
    /// The decoded names of escaped keys, by entry (rare).
    private let decodedKeys: [Int: String]

    /// `bytes` and the scanner's index of them (`MemberIndexNotes`),
    /// copied: a payment's bytes are the transfer buffer, which the next
    /// request reuses.
    init(copying bytes: [UInt8], entries: [Entry]) {
        self.init(owning: bytes.withUnsafeBufferPointer { Array($0) }, entries: entries)
    }

    private init(owning copy: [UInt8], entries: [Entry]) {
        var decoded: [Int: String] = [:]
        copy.withUnsafeBufferPointer { buffer in
            for (offset, entry) in entries.enumerated() where entry.keyIsEscaped {
                if case .string(let name)? = try? JSONParser.parse(UnsafeBufferPointer(rebasing: buffer[entry.key])) {
                    decoded[offset] = name
                }
            }
        }
        self.bytes = copy
        self.entries = entries
        decodedKeys = decoded
    }

    /// Indexes `json` itself; nil when it is not one JSON object.
    public init?(json: UnsafeBufferPointer<UInt8>) {
        var index = MemberIndexNotes()
        guard let scan = try? PaymentScanner.scan(json, watchingPolicyID: false, notes: &index),
              case .object = scan.topLevel else { return nil }
        self.init(owning: Array(json), entries: index.entries)
    }

    public func lookup(_ name: String) -> Lookup {
        var name = name
        var found: Range<Int>?
        var ambiguous = false
        name.withUTF8 { wanted in
            for (offset, entry) in entries.enumerated() where matches(entry, offset, wanted) {
                if found != nil {
                    ambiguous = true
                    return
                }
                found = entry.value
            }
        }
        if ambiguous { return .ambiguous }
        guard let range = found else { return .absent }
        let value: JSONValue? = bytes.withUnsafeBufferPointer { buffer in
            try? JSONParser.parse(UnsafeBufferPointer(rebasing: buffer[range]))
        }
        // The scanner and the parser accept the same grammar, so the value parses.
        return value.map { .value($0) } ?? .absent
    }

    private func matches(_ entry: Entry, _ offset: Int, _ wanted: UnsafeBufferPointer<UInt8>) -> Bool {
        guard entry.keyIsEscaped else {
            return entry.key.count == wanted.count && bytes[entry.key].elementsEqual(wanted)
        }
        guard var name = decodedKeys[offset] else { return false }
        return name.withUTF8 { $0.elementsEqual(wanted) }
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
