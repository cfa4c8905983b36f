#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a call was, as far as interpreting its answer goes: what it asked
/// for, so that a success can be checked to be the answer to it.
enum Operation {
    case createPayment(policyID: String)
    case getPayment(id: String)
    case createQuote
    case createOffer
    case getOffer(id: String)
    case getPolicy(id: String)

    /// A quote is a price: asking again changes nothing but the token (the
    /// v1 and v2 quotes are `GET /quotes`), so it is repeated like a view.
    /// An offer is an unpaid policy, made anew by every `POST /policies`.
    var call: CallKind {
        switch self {
        case .createPayment, .createOffer: return .create
        case .getPayment, .createQuote, .getOffer, .getPolicy: return .view
        }
    }
    /// Whether a success is checked for its `policy_id` (and so a second
    /// one refused): a payment create's answer must be for the policy paid.
    var watchesPolicyID: Bool {
        if case .createPayment = self { return true }
        return false
    }
    /// Whether the answer is a payment object (else a checkout resource,
    /// checked by `CheckoutAnswers`).
    var isPayment: Bool {
        switch self {
        case .createPayment, .getPayment: return true
        default: return false
        }
    }
}

/// An attempt that did not succeed: the evidence `OutcomeRules` judged, and
/// the error the caller would be told.
struct FailedAttempt: Error {
    let evidence: AttemptEvidence
    var error: KaskoError
}

/// Turns an HTTP response into a payment (the body, validated and passed on
/// unchanged) or a failed attempt.
enum ResponseInterpreter {
    /// `indexingMembers`: also note where each top-level member is, for a
    /// typed result (`PaymentJSON.memberEntries`), in the validating pass.
    static func interpret(
        _ response: HTTPResponse, for operation: Operation, indexingMembers: Bool = false
    ) -> Result<PaymentJSON, FailedAttempt> {
        if (200...299).contains(response.status) {
            guard operation.isPayment else { return CheckoutAnswers.validate(response, for: operation) }
            return validatePayment(response, for: operation, indexingMembers: indexingMembers)
        }
        return .failure(failure(for: response, operation: operation))
    }

    /// A success body must be a JSON object with `"object":"payment"` and a
    /// string `id`, each once; a view's id must be the one asked for, and a
    /// create's `policy_id`, when the object has one, the policy paid for.
    /// Both the full and the restricted shapes qualify; any other fields are
    /// the API's business and are kept.
    static func validatePayment(
        _ response: HTTPResponse, for operation: Operation, indexingMembers: Bool = false
    ) -> Result<PaymentJSON, FailedAttempt> {
        func refuse(_ message: String) -> Result<PaymentJSON, FailedAttempt> {
            .failure(FailedAttempt(evidence: .sentInvalidAnswer, error: KaskoError(
                verdict: OutcomeRules.verdict(.sentInvalidAnswer, for: operation.call), message: message,
                httpStatus: response.status, statusText: reasonPhrase(response.status),
                requestID: response.requestID)))
        }
        func invalid(_ why: String) -> Result<PaymentJSON, FailedAttempt> {
            refuse("response is not a payment object: \(why)")
        }
        let scan: PaymentScan
        // A typed result's member index is noted in the same pass; the 1.0
        // calls' scan is the one specialised to note nothing.
        let scanned: Result<PaymentScan, JSONParseError>
        var entries: [TopLevelMembers.Entry]?
        if indexingMembers {
            var index = MemberIndexNotes()
            scanned = PaymentScanner.scan(response.body, watchingPolicyID: operation.watchesPolicyID, notes: &index)
            entries = index.entries
        } else {
            scanned = PaymentScanner.scan(response.body, watchingPolicyID: operation.watchesPolicyID)
        }
        switch scanned {
        case .success(let result): scan = result
        case .failure(let error): return invalid("not valid JSON (\(error.message) at byte \(error.offset))")
        }
        if case .other(let type) = scan.topLevel { return invalid("expected an object, got \(type)") }
        if scan.object == .escaped || scan.id == .escaped || scan.policyID == .escaped {
            return validateEscapedPayment(response, for: operation, refuse: refuse)
        }
        if scan.duplicate { return invalid(duplicateMember) }
        let isPayment = response.body.withUnsafeBufferPointer { buffer in
            guard case .plain(let objectRange) = scan.object else { return false }
            return PaymentScanner.bytes(buffer, objectRange, equal: "payment")
        }
        guard isPayment else { return invalid("\"object\" is not \"payment\"") }
        guard case .plain(let idRange) = scan.id, !idRange.isEmpty else {
            return invalid("\"id\" is missing or not a string")
        }
        let policyID: PolicyMember
        switch scan.policyID {
        case .plain(let range): policyID = .text(response.body[range])
        case .absent, .escaped: policyID = .none  // .escaped went to validateEscapedPayment
        // null is how an API says "none"; anything else is not a policy id.
        case .notAString: policyID = isNull(response.body, afterKey: "policy_id") ? .none : .notAString
        }
        let id = response.body[idRange]
        if let mismatch = mismatch(id: id, policyID: policyID, for: operation) { return refuse(mismatch) }
        var payment = PaymentJSON(bytes: response.body, id: .range(idRange))
        payment.memberEntries = entries
        return .success(payment)
    }

    /// The rare body whose watched members (or a key that might spell them)
    /// use escapes: decoded by the full parser, which the scanner has already
    /// shown will accept it.
    static func validateEscapedPayment(
        _ response: HTTPResponse, for operation: Operation, refuse: (String) -> Result<PaymentJSON, FailedAttempt>
    ) -> Result<PaymentJSON, FailedAttempt> {
        func invalid(_ why: String) -> Result<PaymentJSON, FailedAttempt> {
            refuse("response is not a payment object: \(why)")
        }
        guard let document = try? JSONParser.parse(response.body), case .object(let members) = document else {
            return invalid("not valid JSON")
        }
        // The same members the scanner watches for this operation.
        let watched = operation.watchesPolicyID ? ["object", "id", "policy_id"] : ["object", "id"]
        for name in watched where members.filter({ $0.key == name }).count > 1 {
            return invalid(duplicateMember)
        }
        guard document["object"]?.stringValue == "payment" else {
            return invalid("\"object\" is not \"payment\"")
        }
        guard let id = document["id"]?.stringValue, !id.isEmpty else {
            return invalid("\"id\" is missing or not a string")
        }
        let policyID: PolicyMember
        switch document["policy_id"] {
        case nil, .null?: policyID = .none
        case .string(let text)?: policyID = .text(Array(text.utf8)[...])
        default: policyID = .notAString
        }
        if let mismatch = mismatch(id: Array(id.utf8)[...], policyID: policyID, for: operation) { return refuse(mismatch) }
        return .success(PaymentJSON(bytes: response.body, id: .decoded(id)))
    }

    static let duplicateMember = "a member \"object\", \"id\" or \"policy_id\" appears twice"

    /// A payment's `policy_id`, as far as checking it goes.
    enum PolicyMember {
        case none
        case text(ArraySlice<UInt8>)
        case notAString
    }

    /// Why a payment with this id and policy does not answer `operation`, as
    /// the error message; nil when it does.
    /// Compared as bytes: a string the JSON carried unescaped is its UTF-8.
    static func mismatch(id: ArraySlice<UInt8>, policyID: PolicyMember, for operation: Operation) -> String? {
        switch operation {
        case .getPayment(let asked):
            return sameBytes(id, asked) ? nil : "response is not the payment asked for: asked for payment \(asked), got another"
        case .createPayment(let policy):
            switch policyID {
            case .none: return nil
            case .text(let bytes):
                return sameBytes(bytes, policy) ? nil : "response is not the payment asked for: paid policy \(policy), got a payment of another policy"
            case .notAString: return "response is not a payment object: \"policy_id\" is not a string"
            }
        case .createQuote, .createOffer, .getOffer, .getPolicy:
            // Not payments: `CheckoutAnswers` checks them.
            return nil
        }
    }

    /// Whether `bytes` are exactly `text`'s UTF-8. On the hot path of every
    /// view: one memcmp, where a generic element-by-element compare costs
    /// some fifty instructions a byte.
    @inline(__always)
    static func sameBytes(_ bytes: ArraySlice<UInt8>, _ text: String) -> Bool {
        var text = text
        return text.withUTF8 { expected in
            bytes.withUnsafeBufferPointer { actual in
                guard actual.count == expected.count else { return false }
                guard let left = actual.baseAddress, let right = expected.baseAddress else { return actual.count == 0 }
                return memcmp(left, right, actual.count) == 0
            }
        }
    }

    /// Whether the first top-level `key`'s value is `null` (the scanner only
    /// says "not a string"). Rare: only bodies with a non-string member.
    static func isNull(_ body: [UInt8], afterKey key: String) -> Bool {
        guard let document = try? JSONParser.parse(body) else { return false }
        return document[key] == .null
    }

    static func failure(for response: HTTPResponse, operation: Operation) -> FailedAttempt {
        let status = response.status
        // Error bodies are read leniently: the status code is authoritative,
        // and a proxy's HTML error page must not hide it.
        let document = try? JSONParser.parse(response.body)
        let serverStatus = document?["status"]?.stringValue
        let serverMessage = document?["message"]?.stringValue
        var serverErrors: JSONValue?
        if let errors = document?["errors"], case .array = errors {
            serverErrors = errors
        }
        let evidence = AttemptEvidence.answered(status: status)
        let error = KaskoError(
            verdict: OutcomeRules.verdict(evidence, for: operation.call),
            message: serverMessage ?? defaultMessage(status: status, operation: operation),
            httpStatus: status,
            statusText: serverStatus ?? reasonPhrase(status),
            pendingPaymentID: status == 422 ? serverMessage.flatMap(pendingPaymentID(in:)) : nil,
            requestID: response.requestID,
            serverErrors: serverErrors)
        return FailedAttempt(evidence: evidence, error: error)
    }

    static func defaultMessage(status: Int, operation: Operation) -> String {
        switch (status, operation) {
        // The request, its status and the credential sent follow in
        // parentheses (KaskoClient.describing).
        case (404, .createPayment): return "payment provider could not be identified"
        case (404, .getPayment(let id)): return "payment \(id) was not found"
        case (404, .createQuote): return "the integration, item or subscription plan was not found"
        case (404, .getOffer(let id)): return "offer \(id) was not found"
        case (404, .getPolicy(let id)): return "policy \(id) was not found"
        case (409, .createQuote): return "the quote's pricing is being set up: try again shortly"
        case (401, _), (403, _): return "not authorised: check public_key and secret_key"
        default: return "the API answered with an error"
        }
    }

    /// The id in "Policy - tpol_… already has pending payment - t9193…":
    /// everything after the marker, less one closing full stop and trailing
    /// blanks, when that is a payment id by the rule `kasko_payment_get`
    /// applies; else nil. Never a guess ("t12 34" is not "t12"): the caller
    /// looks the payment up by it.
    static func pendingPaymentID(in message: String) -> String? {
        let marker = "pending payment - "
        guard let range = message.firstRange(of: marker) else { return nil }
        var rest = message[range.upperBound...]
        while let last = rest.last, last.isWhitespace { rest = rest.dropLast() }
        if rest.hasSuffix(".") { rest = rest.dropLast() }
        return (try? PaymentID(String(rest)))?.value
    }

    static func reasonPhrase(_ status: Int) -> String? {
        switch status {
        case 200: return "OK"
        case 201: return "Created"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 409: return "Conflict"
        case 413: return "Payload Too Large"
        case 422: return "Unprocessable Entity"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        default: return nil
        }
    }
}

/// A payment object as the API sent it: validated, otherwise untouched. The
/// checkout calls (quote, offer, policy) deliver their answers in the same
/// form: the bytes as sent, how the call went, and the resource's id.
public struct PaymentJSON: Sendable {
    enum Identifier: Sendable {
        /// Where the id's characters are in `bytes` (it has no escapes).
        case range(Range<Int>)
        case decoded(String)
    }

    /// UTF-8 JSON text, exactly as received.
    public let bytes: [UInt8]
    let identifier: Identifier
    /// How the call that brought it went: set by `KaskoClient` on delivery.
    public internal(set) var httpStatus = 0
    public internal(set) var attempts = 0
    /// The call's wall time, retry waits included, in microseconds: set for
    /// a typed result or when an event hook is set, else 0.
    public internal(set) var totalTimeMicroseconds: Int64 = 0
    /// The response's `X-Request-Id` (redacted like an error's), read only
    /// when the request asked for it.
    public internal(set) var requestID: String?
    /// A policy view's `ETag` and `Last-Modified` headers (redacted like the
    /// request id): what an update or cancel sends back as `If-Match` and
    /// `If-Unmodified-Since`. nil for every other answer.
    public internal(set) var etag: String?
    public internal(set) var lastModified: String?
    /// Where its top-level members are, when the request asked for it (see
    /// `TopLevelMembers`); nil otherwise, or for a body with escaped watched keys.
    var memberEntries: [TopLevelMembers.Entry]?

    /// Its members, to be read by name, in storage of their own.
    public var members: TopLevelMembers? {
        guard let memberEntries else { return bytes.withUnsafeBufferPointer { TopLevelMembers(json: $0) } }
        return TopLevelMembers(copying: bytes, entries: memberEntries)
    }

    init(bytes: [UInt8], id: Identifier) {
        self.bytes = bytes
        self.identifier = id
    }

    /// The payment's id. Made on request: the C API never needs it.
    public var id: String {
        switch identifier {
        case .range(let range): return String(decoding: bytes[range], as: UTF8.self)
        case .decoded(let id): return id
        }
    }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// The same payment in storage of its own, to keep beyond the call.
    public func copied() -> PaymentJSON {
        var copy = PaymentJSON(bytes: bytes.withUnsafeBufferPointer { Array($0) }, id: identifier)
        copy.httpStatus = httpStatus
        copy.attempts = attempts
        copy.requestID = requestID
        copy.etag = etag
        copy.lastModified = lastModified
        copy.totalTimeMicroseconds = totalTimeMicroseconds
        copy.memberEntries = memberEntries
        return copy
    }
}
