// Fault injection, only with --faults: the fault model and its JSON form,
// the armed rules and the per-key attempt counters.
//
// A fault is selected per request by the X-Sandbox-Fault header or by a rule
// armed with POST /__sandbox/faults for the request's fault key (the payment
// id of a view, the policy id of a create). HTTPHandler carries it out; see
// docs/sandbox-faults.md for what a client observes.

import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// One fault. Parts combine: a delay comes first, then either a connection
/// fault (drop, reset) or a response (status or body replacement, or the
/// normal answer), possibly trickled and possibly followed by a close.
struct Fault: Sendable, Equatable {
    enum Drop: String, Sendable {
        case beforeBody = "before_body"
        case afterBody = "after_body"
    }

    enum BodyKind: String, Sendable, CaseIterable {
        case nonJSON = "non_json"
        case truncated
        case oversized
        case notPayment = "not_payment"
    }

    enum Close: String, Sendable {
        case afterResponse = "after_response"
    }

    var delayMs = 0
    /// An answer with this status instead of the request's.
    var status: Int?
    /// The `Retry-After` value, sent verbatim (only with `status`).
    var retryAfter: String?
    /// The raw body of a `status` answer; nil: the default error body.
    var rawBody: String?
    /// A broken 200 answer instead of the request's (only without `status`).
    var bodyKind: BodyKind?
    var drop: Drop?
    var trickleMs: Int?
    var trickleBytes = 8
    var reset = false
    var close: Close?

    static let fieldNames: Set<String> = [
        "delay_ms", "status", "retry_after", "body", "drop", "trickle_ms", "trickle_bytes", "reset", "close",
    ]

    static let maxDelayMs = 600_000
    static let maxTrickleMs = 60_000
    static let maxTrickleBytes = 65_536

    /// Whether the request is carried out (the store may change).
    var carriesOutRequest: Bool {
        status == nil && bodyKind == nil && drop != .beforeBody && !reset
    }

    /// Parses the header form (or any JSON text holding one fault object).
    static func parse(json text: String) -> Result<Fault, FaultProblem> {
        guard let object = FaultJSON.object(Data(text.utf8)) else {
            return .failure(FaultProblem("The fault must be a JSON object."))
        }
        return parse(object)
    }

    static func parse(_ object: [String: FaultJSON]) -> Result<Fault, FaultProblem> {
        // Unknown names first, in a stable order, so the message is predictable.
        if let unknown = object.keys.filter({ !fieldNames.contains($0) }).sorted().first {
            return .failure(FaultProblem("Unknown fault field '\(FaultProblem.clip(unknown))'."))
        }
        var fault = Fault()
        func present(_ name: String) -> FaultJSON? {
            guard let value = object[name], value != .null else { return nil }
            return value
        }
        func integer(_ name: String, _ range: ClosedRange<Int>) -> Result<Int?, FaultProblem> {
            guard let value = present(name) else { return .success(nil) }
            guard case .int(let number) = value, range.contains(number) else {
                return .failure(FaultProblem(
                    "The \(name) field must be an integer from \(range.lowerBound) to \(range.upperBound)."))
            }
            return .success(number)
        }

        switch integer("delay_ms", 0...maxDelayMs) {
        case .failure(let problem): return .failure(problem)
        case .success(let value): fault.delayMs = value ?? 0
        }
        switch integer("status", 200...599) {
        case .failure(let problem): return .failure(problem)
        case .success(let value): fault.status = value
        }
        if let value = present("retry_after") {
            switch value {
            case .int(let seconds) where seconds >= 0:
                fault.retryAfter = String(seconds)
            case .string(let text) where !text.isEmpty && text.utf8.count <= 256
                && text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }):
                fault.retryAfter = text
            default:
                return .failure(FaultProblem(
                    "The retry_after field must be a non-negative integer or a printable ASCII string."))
            }
        }
        if let value = present("body") {
            guard case .string(let text) = value else {
                return .failure(FaultProblem("The body field must be a string."))
            }
            if fault.status != nil {
                fault.rawBody = text
            } else if let kind = BodyKind(rawValue: text) {
                fault.bodyKind = kind
            } else {
                return .failure(FaultProblem(
                    "The body field must be one of non_json, truncated, oversized, not_payment "
                        + "(any text only together with status)."))
            }
        }
        if let value = present("drop") {
            guard case .string(let text) = value, let drop = Drop(rawValue: text) else {
                return .failure(FaultProblem(#"The drop field must be "before_body" or "after_body"."#))
            }
            fault.drop = drop
        }
        switch integer("trickle_ms", 1...maxTrickleMs) {
        case .failure(let problem): return .failure(problem)
        case .success(let value): fault.trickleMs = value
        }
        switch integer("trickle_bytes", 1...maxTrickleBytes) {
        case .failure(let problem): return .failure(problem)
        case .success(let value): fault.trickleBytes = value ?? 8
        }
        if let value = present("reset") {
            guard case .bool(let flag) = value else {
                return .failure(FaultProblem("The reset field must be true or false."))
            }
            fault.reset = flag
        }
        if let value = present("close") {
            guard case .string(let text) = value, let close = Close(rawValue: text) else {
                return .failure(FaultProblem(#"The close field must be "after_response"."#))
            }
            fault.close = close
        }

        // Combinations that cannot both happen.
        if fault.retryAfter != nil && fault.status == nil {
            return .failure(FaultProblem("The retry_after field needs status."))
        }
        if present("trickle_bytes") != nil && fault.trickleMs == nil {
            return .failure(FaultProblem("The trickle_bytes field needs trickle_ms."))
        }
        let answers = fault.status != nil || fault.bodyKind != nil || fault.trickleMs != nil || fault.close != nil
        if fault.drop != nil && (answers || fault.reset) {
            return .failure(FaultProblem(
                "The drop fault cannot be combined with status, body, trickle_ms, close or reset."))
        }
        if fault.reset && answers {
            return .failure(FaultProblem("The reset fault cannot be combined with status, body, trickle_ms or close."))
        }
        return .success(fault)
    }

    /// What --random-faults picks from, uniformly.
    static let randomChoices: [Fault] = [
        Fault(status: 429, retryAfter: "0"),
        Fault(status: 500),
        Fault(status: 502),
        Fault(status: 503),
        Fault(status: 504),
        Fault(delayMs: 50),
        Fault(drop: .afterBody),
        Fault(bodyKind: .nonJSON),
    ]
}

struct FaultProblem: Error, Equatable {
    let message: String

    init(_ message: String) {
        self.message = message
    }

    /// Names from requests are echoed in messages; keep them short.
    static func clip(_ text: String) -> String {
        text.count <= 64 ? text : String(text.prefix(64)) + "..."
    }
}

/// Just enough JSON for the fault endpoints: scalars, and objects at the top
/// two levels (the arming body and its fault). Anything deeper, and arrays,
/// is `.other`, so no input makes decoding recurse.
enum FaultJSON: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case number(Double)
    case string(String)
    case object([String: FaultJSON])
    case other

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if decoder.codingPath.count < 2, let value = try? container.decode([String: FaultJSON].self) {
            self = .object(value)
        } else {
            self = .other
        }
    }

    /// The top-level object of `data`, or nil when it is not a JSON object.
    static func object(_ data: Data) -> [String: FaultJSON]? {
        guard !data.isEmpty else { return nil }
        return try? JSONDecoder().decode([String: FaultJSON].self, from: data)
    }
}

/// Armed rules and attempt counters, shared by all connections.
///
/// One mutex; every operation is one short critical section, so counting a
/// request and consuming its rule happen together (parallel tests on
/// different keys never see each other's faults).
final class FaultRegistry: Sendable {
    /// Longer keys are not counted and cannot be armed: no request can make
    /// the counters hold large strings.
    static let maxKeyBytes = 256
    /// Distinct keys counted; past this, new keys are not counted (their
    /// attempts read 0) until DELETE /__sandbox/attempts. Bounds memory at a
    /// few tens of MB for a sandbox that serves a long benchmark.
    static let maxTrackedKeys = 100_000
    static let maxRules = 10_000

    private struct Rule {
        let id: String
        let fault: Fault
        /// nil: until cleared.
        var remaining: Int?
        /// nil: every route with the key.
        let route: FaultRoute?

        func applies(to requestRoute: FaultRoute?) -> Bool {
            route == nil || requestRoute == nil || route == requestRoute
        }
    }

    private struct State {
        var rules: [String: [Rule]] = [:]
        var ruleCount = 0
        var attempts: [String: Int] = [:]
    }

    private let state = Mutex(State())
    /// --random-faults: the probability that an API request gets a random fault.
    let randomProbability: Double

    init(randomProbability: Double) {
        self.randomProbability = randomProbability
    }

    static func acceptsKey(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.count <= maxKeyBytes
    }

    /// Appends a rule for `key`; rules for one key apply in the order armed.
    /// False when the rule table is full.
    func arm(key: String, fault: Fault, times: Int?, id: String, route: FaultRoute? = nil) -> Bool {
        state.withLock { state in
            guard state.ruleCount < Self.maxRules else { return false }
            state.rules[key, default: []].append(Rule(id: id, fault: fault, remaining: times, route: route))
            state.ruleCount += 1
            return true
        }
    }

    /// Removes every rule; returns how many there were.
    func clearAll() -> Int {
        state.withLock { state in
            let count = state.ruleCount
            state.rules = [:]
            state.ruleCount = 0
            return count
        }
    }

    /// Removes the rules of one key; returns how many there were.
    func clear(key: String) -> Int {
        state.withLock { state in
            let count = state.rules.removeValue(forKey: key)?.count ?? 0
            state.ruleCount -= count
            return count
        }
    }

    func attempts(key: String) -> Int {
        state.withLock { $0.attempts[key] ?? 0 }
    }

    /// Forgets every counter; returns how many keys were counted.
    func resetAttempts() -> Int {
        state.withLock { state in
            let count = state.attempts.count
            state.attempts = [:]
            return count
        }
    }

    /// Forgets one key's counter; returns how many keys that was (0 or 1).
    func resetAttempts(key: String) -> Int {
        state.withLock { $0.attempts.removeValue(forKey: key) == nil ? 0 : 1 }
    }

    /// Counts one request with fault key `key` and, when `consultRules`,
    /// consumes one application of the key's first live rule for `route`
    /// (rules armed without a route apply to every route; a nil `route`
    /// takes any rule) and returns its fault.
    func noteRequest(key: String, consultRules: Bool, route: FaultRoute? = nil) -> Fault? {
        guard Self.acceptsKey(key) else { return nil }
        return state.withLock { state in
            if let count = state.attempts[key] {
                state.attempts[key] = count + 1
            } else if state.attempts.count < Self.maxTrackedKeys {
                state.attempts[key] = 1
            }
            guard consultRules, var rules = state.rules[key],
                  let index = rules.firstIndex(where: { $0.applies(to: route) })
            else { return nil }
            let fault = rules[index].fault
            if let remaining = rules[index].remaining {
                if remaining <= 1 {
                    rules.remove(at: index)
                    state.ruleCount -= 1
                } else {
                    rules[index].remaining = remaining - 1
                }
            }
            state.rules[key] = rules.isEmpty ? nil : rules
            return fault
        }
    }
}

/// The API routes a rule may be limited to ("route" when arming).
enum FaultRoute: String, Sendable, CaseIterable {
    case paymentCreate = "payment_create"
    case paymentView = "payment_view"
    case quoteCreate = "quote_create"
    case offerCreate = "offer_create"
    case offerView = "offer_view"
    case policyView = "policy_view"

    /// A create's fault key is this member of its body.
    var createKeyField: String? {
        switch self {
        case .paymentCreate: return "policy_id"
        case .quoteCreate: return "integration_id"
        case .offerCreate: return "quote_token"
        case .paymentView, .offerView, .policyView: return nil
        }
    }
}

/// Bodies of the body faults.
enum FaultBodies {
    static let nonJSON = "<html><body><h1>sandbox fault</h1><p>This body is not JSON.</p></body></html>\n"
    static let notPayment = #"{"object":"refund","id":"r1"}"#
    static let oversizedBytes = 2 << 20

    /// A complete payment object that is not stored anywhere: the base of
    /// the truncated and oversized bodies.
    static func paymentLike(id: String?, policyId: String?, livemode: Bool, baseURL: String) -> String {
        func usable(_ value: String?) -> String? {
            guard let value, FaultRegistry.acceptsKey(value) else { return nil }
            return value
        }
        let payment = Payment(
            id: usable(id) ?? (livemode ? "l" : "t") + String(repeating: "0", count: 32),
            livemode: livemode,
            provider: "invoice",
            method: "invoice",
            status: .ok,
            policyId: usable(policyId) ?? (livemode ? "lpol_" : "tpol_") + String(repeating: "0", count: 28),
            token: "ptok_" + String(repeating: "0", count: 40),
            processedAt: Timestamps.nowISO8601(),
            errorCode: nil,
            customerId: "c2FuZGJveC1mYXVsdC1jdXN0b21lci1pZC1ub3QtcmVhbA__"
        )
        return PaymentObject.full(payment, baseURL: baseURL)
    }

    /// A payment-like object padded with a long string member to exactly
    /// 2 MiB: valid JSON, only too large.
    static func oversized(_ paymentLike: String) -> String {
        var text = String(paymentLike.dropLast())  // the closing brace
        let opening = #","padding":""#
        let padding = max(0, oversizedBytes - text.utf8.count - opening.utf8.count - 2)
        text.reserveCapacity(oversizedBytes)
        text += opening
        text += String(repeating: "x", count: padding)
        text += "\"}"
        return text
    }

    /// The default body of a `status` fault: the API's error shape.
    static func statusError(_ status: HTTPResponseStatus) -> String {
        let phrase = status.reasonPhrase.isEmpty ? "Error" : status.reasonPhrase
        return JSON.error(status: phrase, message: "sandbox fault")
    }
}
