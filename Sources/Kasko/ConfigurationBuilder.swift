/// A configuration set key by key (the C API's `kasko_config`), so that a C
/// caller never writes JSON: values go in as C strings and numbers and the
/// library builds the document. The keys and their types are
/// `Configuration`'s; a refused key is remembered with the reason, as for
/// `CallOptions`, and the client is then refused with it.
public struct ConfigurationBuilder: Sendable {
    private var members: [JSONMember] = []
    private var refusals = Refusals()

    public init() {}

    /// The first refusal still standing, nil when every key set was accepted.
    public var problem: KaskoError? { refusals.first }

    /// Sets a string key; nil removes any key, of either type.
    public mutating func set(_ key: String, string value: String?) throws(KaskoError) {
        try record(key, expectingInteger: false, value.map { .string($0) })
    }

    public mutating func set(_ key: String, integer value: Int) throws(KaskoError) {
        try record(key, expectingInteger: true, .number(String(value)))
    }

    /// Remembers that a value for `key` could not even be read (the C layer's refusal).
    public mutating func refuse(_ key: String, because problem: KaskoError) {
        try? refusals.record(key, problem)
    }

    /// The configuration, checked as a JSON one is.
    public func configuration() throws(KaskoError) -> Configuration {
        if let problem { throw problem }
        return try Configuration(members: members)
    }

    private mutating func record(_ key: String, expectingInteger: Bool, _ value: JSONValue?) throws(KaskoError) {
        let problem: KaskoError?
        if !Configuration.knownKeys.contains(key) {
            problem = .invalidArgument(
                "unknown configuration key \(JSONWriter.quoted(key)); known keys: "
                    + Configuration.knownKeys.joined(separator: ", "))
        } else if value != nil, Configuration.integerKeys.contains(key) != expectingInteger {
            problem = .invalidArgument(
                "configuration key \"\(key)\" takes \(expectingInteger ? "a string" : "a whole number"), not \(expectingInteger ? "a number" : "a string")")
        } else {
            problem = nil
        }
        try refusals.record(key, problem)
        members.removeAll { $0.key == key }
        if let value { members.append(JSONMember(key: key, value: value)) }
    }
}
