// JSON text for every body the sandbox sends.
//
// Written by hand rather than with JSONSerialization because clients (and
// the reference) see the fields in a fixed order, and JSONSerialization
// does not keep key order.

/// Builds a JSON object's text member by member, in call order.
struct JSONObjectWriter {
    private var text = "{"
    private var first = true

    private mutating func key(_ name: String) {
        if first {
            first = false
        } else {
            text += ","
        }
        JSON.appendString(name, to: &text)
        text += ":"
    }

    mutating func string(_ name: String, _ value: String) {
        key(name)
        JSON.appendString(value, to: &text)
    }

    mutating func optionalString(_ name: String, _ value: String?) {
        key(name)
        if let value {
            JSON.appendString(value, to: &text)
        } else {
            text += "null"
        }
    }

    mutating func bool(_ name: String, _ value: Bool) {
        key(name)
        text += value ? "true" : "false"
    }

    mutating func int(_ name: String, _ value: Int) {
        key(name)
        text += String(value)
    }

    mutating func null(_ name: String) {
        key(name)
        text += "null"
    }

    /// Inserts already-encoded JSON (an empty array, a nested object).
    mutating func raw(_ name: String, _ json: String) {
        key(name)
        text += json
    }

    func finish() -> String {
        text + "}"
    }
}

enum JSON {
    /// Appends `value` as a JSON string literal. Escapes everything RFC 8259
    /// requires, so values echoed from requests (ids in messages) can never
    /// break the document.
    static func appendString(_ value: String, to text: inout String) {
        text += "\""
        appendEscaped(value, to: &text)
        text += "\""
    }

    /// `value`'s characters as they go between a string literal's quotes.
    /// Escaping goes scalar by scalar, so the escaped parts of a string
    /// make, one after the other, the escaped whole.
    static func appendEscaped(_ value: String, to text: inout String) {
        guard needsEscaping(value) else {
            text += value
            return
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case let c where c.value < 0x20:
                let hex = String(c.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                text.unicodeScalars.append(scalar)
            }
        }
    }

    private static func needsEscaping(_ value: String) -> Bool {
        // Over the contiguous bytes when there are (native strings): the
        // per-byte iterator was most of the cost of a payment view's escaping.
        value.utf8.withContiguousStorageIfAvailable(containsEscaped)
            ?? value.utf8.contains { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }
    }

    private static func containsEscaped(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in bytes where byte < 0x20 || byte == 0x22 || byte == 0x5C {
            return true
        }
        return false
    }

    /// `{"status":"..."}` or `{"status":"...","message":"..."}`: the API's
    /// error shape.
    static func error(status: String, message: String? = nil) -> String {
        var object = JSONObjectWriter()
        object.string("status", status)
        if let message { object.string("message", message) }
        return object.finish()
    }
}

// Every GET /payments/{id} renders one of these, so they are written as
// literal runs between the values rather than member by member: the text
// is the JSONObjectWriter's, byte for byte (PaymentBytesTests pins it), in
// one reserved buffer instead of a dozen small appends and three writers.
enum PaymentObject {
    /// Room for the members around the values, so that an object without
    /// escapes is written without growing its buffer.
    private static let fixedBytes = 400

    private static func capacity(_ payment: Payment, baseURL: String, values: Int) -> Int {
        fixedBytes + values + baseURL.utf8.count + 2 * payment.id.utf8.count + payment.provider.utf8.count
            + payment.method.utf8.count
    }

    /// `{"object":"payment",...,"status":"..."`: the members both shapes
    /// start with, in the reference's order.
    private static func appendHead(_ payment: Payment, to text: inout String) {
        text += #"{"object":"payment","id":"#
        JSON.appendString(payment.id, to: &text)
        text += payment.livemode ? #","livemode":true,"provider":"# : #","livemode":false,"provider":"#
        JSON.appendString(payment.provider, to: &text)
        text += #","method":"#
        JSON.appendString(payment.method, to: &text)
        text += #","status":"#
        JSON.appendString(payment.status.rawValue, to: &text)
    }

    /// `,"_links":{"_self":{"href":"<baseURL>/payments/<id>"}}}`: the last
    /// member of both shapes, and the object's end.
    private static func appendLinks(_ payment: Payment, baseURL: String, to text: inout String) {
        text += #","_links":{"_self":{"href":""#
        JSON.appendEscaped(baseURL, to: &text)
        text += "/payments/"
        JSON.appendEscaped(payment.id, to: &text)
        text += #""}}}"#
    }

    private static func appendOptional(_ value: String?, to text: inout String) {
        if let value {
            JSON.appendString(value, to: &text)
        } else {
            text += "null"
        }
    }

    /// The full object, for secret-key callers: exactly the fields, in the
    /// order, of the reference's "Payment object example".
    static func full(_ payment: Payment, baseURL: String) -> String {
        var text = ""
        text.reserveCapacity(capacity(payment, baseURL: baseURL, values: payment.policyId.utf8.count
            + payment.token.utf8.count + (payment.processedAt?.utf8.count ?? 0)
            + (payment.errorCode?.utf8.count ?? 0) + payment.customerId.utf8.count))
        appendHead(payment, to: &text)
        text += #","policy_id":"#
        JSON.appendString(payment.policyId, to: &text)
        text += #","charge_id":null,"fee":0,"reference":null,"token":"#
        JSON.appendString(payment.token, to: &text)
        text += #","reason":null,"processed_at":"#
        appendOptional(payment.processedAt, to: &text)
        text += #","error_code":"#
        appendOptional(payment.errorCode, to: &text)
        text += #","metadata":[],"transaction_metadata":[],"customer_id":"#
        JSON.appendString(payment.customerId, to: &text)
        text += #","refunds":[]"#
        appendLinks(payment, baseURL: baseURL, to: &text)
        return text
    }

    /// The restricted object, for public-key-only callers: exactly the
    /// fields of the reference's create-payment 200 example.
    static func restricted(_ payment: Payment, baseURL: String) -> String {
        var text = ""
        text.reserveCapacity(capacity(payment, baseURL: baseURL, values: 0))
        appendHead(payment, to: &text)
        text += #","transaction_metadata":[]"#
        appendLinks(payment, baseURL: baseURL, to: &text)
        return text
    }
}
