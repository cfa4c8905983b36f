/// The members of a result's JSON object, found by name: what the C API's
/// typed access reads (`kasko_result_member_*`). Parsed once, on first use.
/// A name that appears twice has no one value, so it is reported as
/// ambiguous rather than answered with either copy.
public struct TopLevelMembers: Sendable {
    public enum Lookup: Equatable, Sendable {
        case absent
        case ambiguous
        case value(JSONValue)
    }

    private let members: [JSONMember]

    /// nil when `bytes` is not a JSON object.
    public init?(json bytes: UnsafeBufferPointer<UInt8>) {
        guard case .object(let members)? = try? JSONParser.parse(bytes) else { return nil }
        self.members = members
    }

    public func lookup(_ name: String) -> Lookup {
        var found: JSONValue?
        for member in members where member.key == name {
            if found != nil { return .ambiguous }
            found = member.value
        }
        return found.map { .value($0) } ?? .absent
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
