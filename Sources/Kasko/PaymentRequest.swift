/// A validated `POST /payments` body. The caller's JSON is checked and the
/// body rebuilt from its four fields, so nothing unexpected reaches the API.
public struct PaymentRequest: Sendable {
    public static let fields = ["token", "provider", "method", "policy_id"]
    /// Each field's longest accepted value, in bytes.
    public static let maximumFieldLength = 4096

    public let token: String
    public let provider: String
    public let method: String
    public let policyID: String

    public init(token: String, provider: String, method: String, policyID: String) throws(KaskoError) {
        for (name, value) in [("token", token), ("provider", provider), ("method", method), ("policy_id", policyID)] {
            try PaymentRequest.check(value, field: name)
        }
        self.token = token
        self.provider = provider
        self.method = method
        self.policyID = policyID
    }

    public init(json: String) throws(KaskoError) {
        let document = try StrictObject(
            document: "payment request", member: "field", listName: "fields", knownKeys: PaymentRequest.fields
        ).parse(json)
        func field(_ name: String) throws(KaskoError) -> String {
            guard let value = document[name] else {
                throw .invalidArgument("payment request is missing \"\(name)\"")
            }
            guard case .string(let text) = value else {
                throw .invalidArgument("payment request field \"\(name)\" must be a string, got \(value.typeName)")
            }
            return text
        }
        try self.init(
            token: try field("token"), provider: try field("provider"),
            method: try field("method"), policyID: try field("policy_id"))
    }

    /// Values are never quoted back: the token is a credential for the offer.
    static func check(_ value: String, field: String) throws(KaskoError) {
        guard !value.isEmpty else {
            throw .invalidArgument("payment request field \"\(field)\" must not be empty")
        }
        guard value.utf8.count <= maximumFieldLength else {
            throw .invalidArgument("payment request field \"\(field)\" is longer than \(maximumFieldLength) bytes")
        }
        if value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw .invalidArgument("payment request field \"\(field)\" contains a control character")
        }
    }

    /// The body sent to the API, in the reference's field order.
    public var bodyJSON: String { String(decoding: body, as: UTF8.self) }

    /// The body as the bytes that go on the wire.
    public var body: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(token.utf8.count + provider.utf8.count + method.utf8.count + policyID.utf8.count + 64)
        for (index, (name, value)) in [("token", token), ("provider", provider), ("method", method), ("policy_id", policyID)].enumerated() {
            bytes.append(index == 0 ? UInt8(ascii: "{") : UInt8(ascii: ","))
            JSONWriter.appendQuoted(name, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            JSONWriter.appendQuoted(value, to: &bytes)
        }
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }
}

/// A payment id, checked before it is put into a URL path.
public struct PaymentID: Sendable {
    public static let maximumLength = 128
    public let value: String

    public init(_ value: String) throws(KaskoError) {
        guard !value.isEmpty else { throw .invalidArgument("payment id must not be empty") }
        guard value.utf8.count <= PaymentID.maximumLength else {
            throw .invalidArgument("payment id is longer than \(PaymentID.maximumLength) characters")
        }
        guard PaymentID.allAllowed(value) else {
            throw .invalidArgument("payment id may contain only letters, digits, '_' and '-'")
        }
        self.value = value
    }

    static func allAllowed(_ value: String) -> Bool {
        var value = value
        return value.withUTF8 { bytes in
            for byte in bytes where !isAllowed(byte) { return false }
            return true
        }
    }

    @inline(__always)
    static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }
}
