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
        var needsEscaping = false
        for byte in value.utf8 where byte < 0x20 || byte == 0x22 || byte == 0x5C {
            needsEscaping = true
            break
        }
        guard needsEscaping else {
            text += value
            text += "\""
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
        text += "\""
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

enum PaymentObject {
    private static func links(baseURL: String, paymentId: String) -> String {
        var href = JSONObjectWriter()
        href.string("href", baseURL + "/payments/" + paymentId)
        var links = JSONObjectWriter()
        links.raw("_self", href.finish())
        return links.finish()
    }

    /// The members both shapes start with, in the reference's order.
    private static func head(_ payment: Payment) -> JSONObjectWriter {
        var object = JSONObjectWriter()
        object.string("object", "payment")
        object.string("id", payment.id)
        object.bool("livemode", payment.livemode)
        object.string("provider", payment.provider)
        object.string("method", payment.method)
        object.string("status", payment.status.rawValue)
        return object
    }

    /// The full object, for secret-key callers: exactly the fields, in the
    /// order, of the reference's "Payment object example".
    static func full(_ payment: Payment, baseURL: String) -> String {
        var object = head(payment)
        object.string("policy_id", payment.policyId)
        object.null("charge_id")
        object.int("fee", 0)
        object.null("reference")
        object.string("token", payment.token)
        object.null("reason")
        object.optionalString("processed_at", payment.processedAt)
        object.optionalString("error_code", payment.errorCode)
        object.raw("metadata", "[]")
        object.raw("transaction_metadata", "[]")
        object.string("customer_id", payment.customerId)
        object.raw("refunds", "[]")
        object.raw("_links", links(baseURL: baseURL, paymentId: payment.id))
        return object.finish()
    }

    /// The restricted object, for public-key-only callers: exactly the
    /// fields of the reference's create-payment 200 example.
    static func restricted(_ payment: Payment, baseURL: String) -> String {
        var object = head(payment)
        object.raw("transaction_metadata", "[]")
        object.raw("_links", links(baseURL: baseURL, paymentId: payment.id))
        return object.finish()
    }
}
