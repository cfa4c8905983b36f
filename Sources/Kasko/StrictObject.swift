/// A caller's JSON document that must be an object with known, unique keys
/// (the configuration, a payment request). Unknown keys are refused so that a
/// typo cannot pass silently; a duplicate would be ambiguous.
struct StrictObject {
    /// How the messages name the document and its members, e.g.
    /// ("configuration", "key", "known keys").
    let document: String
    let member: String
    let listName: String
    let knownKeys: [String]

    func parse(_ text: String) throws(KaskoError) -> JSONValue {
        let value: JSONValue
        do {
            value = try JSONParser.parse(text)
        } catch {
            throw .invalidArgument("\(document) is not valid JSON: \(error.message) at byte \(error.offset)")
        }
        try check(value)
        return value
    }

    /// An object with known, unique keys.
    func check(_ value: JSONValue) throws(KaskoError) {
        guard case .object(let members) = value else {
            throw .invalidArgument("\(document) must be a JSON object, got \(value.typeName)")
        }
        var seen: Set<String> = []
        for entry in members {
            guard knownKeys.contains(entry.key) else {
                throw .invalidArgument(
                    "unknown \(document) \(member) \(JSONWriter.quoted(entry.key)); \(listName): "
                        + knownKeys.joined(separator: ", "))
            }
            guard seen.insert(entry.key).inserted else {
                throw .invalidArgument("\(document) \(member) \"\(entry.key)\" appears more than once")
            }
        }
    }
}
