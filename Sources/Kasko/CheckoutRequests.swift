/// The bodies of `POST /quotes` and `POST /policies`, checked before any
/// I/O and then sent exactly as the caller wrote them.
///
/// Unlike a payment request, these are passed on unchanged, unknown members
/// included: `data` is the product's own (its fields differ per product), and
/// KASKO's product pages show further top-level members (`referrer_url`,
/// `live_integration`, `product_version_id`, …) that a client must not
/// refuse. What is checked is what every product needs: the members the
/// reference marks required, with the right JSON type, each once.
public struct CheckoutRequest: Sendable {
    /// The body, byte for byte as the caller gave it.
    public let body: [UInt8]

    /// A v3 quote: `item_id`, `subscription_plan_id`, `integration_id`
    /// (strings) and `data` (an object) are required.
    public static let quoteRequired: [(name: String, type: MemberType)] = [
        ("item_id", .string), ("subscription_plan_id", .string), ("integration_id", .string), ("data", .object),
    ]
    /// An offer: `quote_token`, `first_name`, `last_name`, `email` and
    /// `language` are required strings; `data` and `metadata`, when there,
    /// objects (or `[]`, which is how the API itself writes an empty one).
    public static let offerRequired: [(name: String, type: MemberType)] = [
        ("quote_token", .string), ("first_name", .string), ("last_name", .string), ("email", .string),
        ("language", .string),
    ]
    public static let offerOptional: [(name: String, type: MemberType)] = [("data", .objectOrEmptyArray), ("metadata", .objectOrEmptyArray)]

    public enum MemberType: Sendable {
        case string
        case object
        case objectOrEmptyArray
    }

    public static func quote(json: String) throws(KaskoError) -> CheckoutRequest {
        try CheckoutRequest(json: json, document: "quote request", required: quoteRequired, optional: [])
    }

    public static func offer(json: String) throws(KaskoError) -> CheckoutRequest {
        try CheckoutRequest(json: json, document: "offer request", required: offerRequired, optional: offerOptional)
    }

    init(
        json: String, document: String, required: [(name: String, type: MemberType)],
        optional: [(name: String, type: MemberType)]
    ) throws(KaskoError) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(json)
        } catch {
            throw .invalidArgument("\(document) is not valid JSON: \(error.message) at byte \(error.offset)")
        }
        guard case .object(let members) = value else {
            throw .invalidArgument("\(document) must be a JSON object, got \(value.typeName)")
        }
        // A duplicate of a checked member would let the server read the
        // other one; any duplicate is ambiguous, so none is sent.
        var seen: Set<String> = []
        for member in members where !seen.insert(member.key).inserted {
            throw .invalidArgument("\(document) member \(JSONWriter.quoted(member.key)) appears more than once")
        }
        for (name, type) in required {
            guard let member = value[name] else { throw .invalidArgument("\(document) is missing \"\(name)\"") }
            try CheckoutRequest.check(member, name: name, type: type, document: document)
        }
        for (name, type) in optional {
            guard let member = value[name] else { continue }
            try CheckoutRequest.check(member, name: name, type: type, document: document)
        }
        body = Array(json.utf8)
    }

    /// Values are never quoted back: a request may carry personal data.
    static func check(_ value: JSONValue, name: String, type: MemberType, document: String) throws(KaskoError) {
        switch (type, value) {
        case (.string, .string(let text)):
            guard !text.isEmpty else { throw .invalidArgument("\(document) member \"\(name)\" must not be empty") }
        case (.object, .object), (.objectOrEmptyArray, .object):
            break
        case (.objectOrEmptyArray, .array(let items)) where items.isEmpty:
            break
        case (.string, _):
            throw .invalidArgument("\(document) member \"\(name)\" must be a string, got \(value.typeName)")
        case (.object, _), (.objectOrEmptyArray, _):
            throw .invalidArgument("\(document) member \"\(name)\" must be an object, got \(value.typeName)")
        }
    }
}

/// A policy id (which is also its offer's id), checked before it is put
/// into a URL path: by the rule a payment id follows, since KASKO says its
/// ids may change length and shape (`tpol_…`, `lpol_…`, 33 characters
/// today, opaque 33-character ids in v1).
public struct PolicyID: Sendable {
    public static let maximumLength = PaymentID.maximumLength
    public let value: String

    public init(_ value: String) throws(KaskoError) {
        guard !value.isEmpty else { throw .invalidArgument("policy id must not be empty") }
        guard value.utf8.count <= PolicyID.maximumLength else {
            throw .invalidArgument("policy id is longer than \(PolicyID.maximumLength) characters")
        }
        guard PaymentID.allAllowed(value) else {
            throw .invalidArgument("policy id may contain only letters, digits, '_' and '-'")
        }
        self.value = value
    }
}
