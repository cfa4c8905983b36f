// Routing and the endpoint handlers: the API's behaviour lives here.
//
// Handlers are synchronous and never throw: every input, however broken,
// maps to one of the API's documented error bodies.

import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A complete request, body collected (the server caps it at 1 MiB first).
struct SandboxRequest {
    let method: HTTPMethod
    let uri: String
    let headers: HTTPHeaders
    let body: ByteBuffer?
}

struct SandboxResponse {
    var status: HTTPResponseStatus
    var body: String
    var extraHeaders: [(String, String)] = []
    /// The request went to an API route (/payments, /quotes, /policies,
    /// /offers): the answers --response-delay-ms holds back. Set by
    /// `Router.handle`, which has split the target already, so that the
    /// server need not split it again.
    var isAPI = false
}

package final class Router: Sendable {
    let config: SandboxConfig
    let store = Store()
    /// Rules and counters; nil without --faults.
    let faults: FaultRegistry?
    /// Where the timers of asynchronous policy creation and webhook
    /// redelivery run, and webhooks are sent from.
    let group: EventLoopGroup
    let deliveries = DeliveryLog()
    /// nil without --webhook-url.
    let webhooks: WebhookSender?
    /// TCP connections accepted since start: how tests see keep-alive at work.
    private let connections = Atomic<Int>(0)
    /// The one Authorization value accepted, built once rather than per request.
    private let bearerValue: String

    func connectionAccepted() {
        connections.add(1, ordering: .relaxed)
    }

    /// `group` defaults to NIO's shared one, for tests that drive the
    /// router without a server.
    package init(config: SandboxConfig, group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.config = config
        self.group = group
        bearerValue = "Bearer " + config.secretKey
        faults = config.faults ? FaultRegistry(randomProbability: config.randomFaultProbability) : nil
        if let target = config.webhookTarget, let secret = config.webhookSecret {
            webhooks = WebhookSender(target: target, secret: secret, backoffMs: config.webhookBackoffMs,
                                     maxAttempts: config.webhookAttempts, log: deliveries, group: group)
        } else {
            webhooks = nil
        }
    }

    private enum Route {
        case payments
        case payment(id: String)
        case quotes
        case policies
        case policy(id: String)
        case offer(id: String)
        case offers
        case approve(offerId: String)
        case settle(paymentId: String)
        case paymentsOfPolicy(String)
        case stats
        case deliveries
        case health
        // Only with --faults.
        case faults
        case faultsOfKey(String)
        case attempts
        case attemptsOfKey(String)
        case connections
        case unknown

        var allowedMethods: [HTTPMethod] {
            switch self {
            case .payments, .offers, .settle, .quotes, .policies, .approve: return [.POST]
            case .payment, .health, .policy, .offer, .paymentsOfPolicy, .stats, .deliveries: return [.GET]
            case .faults: return [.POST, .DELETE]
            case .faultsOfKey, .attempts: return [.DELETE]
            case .attemptsOfKey: return [.GET, .DELETE]
            case .connections: return [.GET]
            case .unknown: return []
            }
        }
    }

    private struct Provider {
        let method: String
        /// Settled at once ("ok"), or left pending until settled out of band.
        let settlesImmediately: Bool
    }

    private static let providers: [String: Provider] = [
        "invoice": Provider(method: "invoice", settlesImmediately: true),
        "deferred": Provider(method: "deferred", settlesImmediately: false),
    ]

    // Fixed bodies, encoded once.
    static let notFound = JSON.error(status: "Not Found")
    private static let methodNotAllowed = JSON.error(status: "Method Not Allowed")
    private static let unauthorizedPurchase = JSON.error(
        status: "Unauthorized", message: "Not authorized for policy purchase.")
    static let unauthorizedView = JSON.error(status: "Unauthorized", message: "Not authorized.")
    private static let unknownProvider = JSON.error(
        status: "Not Found", message: "Payment provider could not be identified.")
    static let bodyNotObject = JSON.error(
        status: "Bad Request", message: "The request body must be a JSON object.")
    private static let healthy = #"{"status":"ok"}"#

    static let payloadTooLarge = JSON.error(
        status: "Payload Too Large", message: "The request body must not exceed 1 MiB.")
    static let malformedRequest = JSON.error(status: "Bad Request", message: "Malformed HTTP request.")
    static let headersTooLarge = JSON.error(
        status: "Request Header Fields Too Large", message: "The request headers are too large.")

    static let armingFields: Set<String> = ["key", "fault", "times", "route"]

    func handle(_ request: SandboxRequest, baseURL: String, rng: inout FastRandom) -> SandboxResponse {
        let (segments, query) = Self.requestTarget(request.uri)
        var response = handle(request, segments: segments, query: query, baseURL: baseURL, rng: &rng)
        response.isAPI = Self.isAPI(segments)
        return response
    }

    private func handle(
        _ request: SandboxRequest, segments: [Substring], query: Substring, baseURL: String, rng: inout FastRandom
    ) -> SandboxResponse {
        let route = Self.route(segments, faults: faults != nil)

        let allowed = route.allowedMethods
        guard !allowed.isEmpty else {
            return SandboxResponse(status: .notFound, body: Self.notFound)
        }
        guard allowed.contains(request.method) else {
            return SandboxResponse(
                status: .methodNotAllowed, body: Self.methodNotAllowed,
                extraHeaders: [("Allow", allowed.map(\.rawValue).joined(separator: ", "))])
        }

        switch route {
        case .payments:
            return createPayment(request, query: query, baseURL: baseURL, rng: &rng)
        case .payment(let id):
            return viewPayment(request, id: id, baseURL: baseURL)
        case .quotes:
            return createQuote(request, query: query)
        case .policies:
            return createOffer(request, query: query, baseURL: baseURL, rng: &rng)
        case .policy(let id):
            return viewPolicy(request, id: id, baseURL: baseURL)
        case .offer(let id):
            return viewOffer(request, id: id, baseURL: baseURL)
        case .offers:
            return createSandboxOffer(rng: &rng)
        case .approve(let offerId):
            return approveOffer(offerId, baseURL: baseURL, rng: &rng)
        case .settle(let paymentId):
            return settlePayment(request, paymentId: paymentId, baseURL: baseURL)
        case .paymentsOfPolicy(let id):
            return paymentsOfPolicy(id)
        case .stats:
            return stats()
        case .deliveries:
            return SandboxResponse(status: .ok, body: deliveries.listing())
        case .health:
            return SandboxResponse(status: .ok, body: Self.healthy)
        case .faults:
            return request.method == .POST ? armFault(request, rng: &rng) : clearFaults(key: nil)
        case .faultsOfKey(let key):
            return clearFaults(key: key)
        case .attempts:
            return resetAttempts(key: nil)
        case .attemptsOfKey(let key):
            return request.method == .GET ? attempts(key: key) : resetAttempts(key: key)
        case .connections:
            return SandboxResponse(status: .ok, body: #"{"accepted":\#(connections.load(ordering: .relaxed))}"#)
        case .unknown:
            return SandboxResponse(status: .notFound, body: Self.notFound)
        }
    }

    // MARK: - Endpoints

    private func createPayment(
        _ request: SandboxRequest, query: Substring, baseURL: String, rng: inout FastRandom
    ) -> SandboxResponse {
        // 1. Credentials. A secret is optional here, but a wrong one is
        // refused rather than silently downgraded to the restricted view.
        guard Self.queryValue("key", in: query) == config.publicKey else {
            return SandboxResponse(status: .unauthorized, body: Self.unauthorizedPurchase)
        }
        let bearer = bearerCheck(request.headers)
        if bearer == .invalid {
            return SandboxResponse(status: .unauthorized, body: Self.unauthorizedPurchase)
        }

        // 2. Payload shape, fields checked in the reference's order.
        guard let object = Self.jsonObject(request.body) else {
            return SandboxResponse(status: .badRequest, body: Self.bodyNotObject)
        }
        var fields: [String] = []
        for name in ["token", "provider", "method", "policy_id"] {
            switch Self.requiredString(object, name) {
            case .success(let value): fields.append(value)
            case .failure(let problem): return badRequest(problem.message)
            }
        }
        let token = fields[0], providerName = fields[1], method = fields[2], policyId = fields[3]

        // 3. Provider and method.
        guard let provider = Self.providers[providerName] else {
            return SandboxResponse(status: .notFound, body: Self.unknownProvider)
        }
        guard method == provider.method else {
            return badRequest("The payment method \(method) is not supported by the \(providerName) provider.")
        }

        // 4–7. Policy state, checked and updated atomically by the store.
        let outcome = store.createPayment(
            id: Identifiers.paymentId(live: config.livemode, using: &rng),
            livemode: config.livemode,
            provider: providerName,
            method: method,
            policyId: policyId,
            token: token,
            settled: provider.settlesImmediately
        )
        switch outcome {
        case .unknownPolicy:
            return badRequest("Policy - \(policyId) could not be found.")
        case .tokenMismatch:
            return badRequest("The token is not valid for policy - \(policyId).")
        case .pendingPayment(let pendingId):
            return SandboxResponse(
                status: .unprocessableEntity,
                body: JSON.error(
                    status: "Unprocessable Entity",
                    message: "Policy - \(policyId) already has pending payment - \(pendingId)."))
        case .alreadyPaid:
            return badRequest("Policy - \(policyId) is already paid.")
        case .created(let payment):
            if payment.status == .ok {
                schedulePolicyCreation(policyId: policyId, baseURL: baseURL)
            }
            let body =
                bearer == .valid
                ? PaymentObject.full(payment, baseURL: baseURL)
                : PaymentObject.restricted(payment, baseURL: baseURL)
            return SandboxResponse(status: .ok, body: body)
        }
    }

    private func viewPayment(_ request: SandboxRequest, id: String, baseURL: String) -> SandboxResponse {
        guard bearerCheck(request.headers) == .valid else {
            return SandboxResponse(status: .unauthorized, body: Self.unauthorizedView)
        }
        guard let payment = store.payment(id: id) else {
            return SandboxResponse(status: .notFound, body: Self.notFound)
        }
        return SandboxResponse(status: .ok, body: PaymentObject.full(payment, baseURL: baseURL))
    }

    private func settlePayment(_ request: SandboxRequest, paymentId: String, baseURL: String) -> SandboxResponse {
        var target = PaymentStatus.ok
        if let body = request.body, body.readableBytes > 0 {
            guard let object = Self.jsonObject(body) else {
                return SandboxResponse(status: .badRequest, body: Self.bodyNotObject)
            }
            if let raw = object["status"], !(raw is NSNull) {
                switch raw as? String {
                case "ok": target = .ok
                case "failed": target = .failed
                default: return badRequest(#"The status field must be "ok" or "failed"."#)
                }
            }
        }

        switch store.settle(paymentId: paymentId, to: target) {
        case .notFound:
            return SandboxResponse(status: .notFound, body: Self.notFound)
        case .notPending(let payment):
            return SandboxResponse(
                status: .conflict,
                body: JSON.error(
                    status: "Conflict",
                    message: "Payment - \(payment.id) is not pending (status \(payment.status.rawValue))."))
        case .settled(let payment):
            if payment.status == .ok {
                schedulePolicyCreation(policyId: payment.policyId, baseURL: baseURL)
            }
            return SandboxResponse(status: .ok, body: PaymentObject.full(payment, baseURL: baseURL))
        }
    }

    // MARK: - Fault injection endpoints (only routed with --faults)

    private func armFault(_ request: SandboxRequest, rng: inout FastRandom) -> SandboxResponse {
        guard let faults else { return SandboxResponse(status: .notFound, body: Self.notFound) }
        guard let object = request.body.flatMap({ FaultJSON.object(Data($0.readableBytesView)) }) else {
            return SandboxResponse(status: .badRequest, body: Self.bodyNotObject)
        }
        if let unknown = object.keys.filter({ !Self.armingFields.contains($0) }).sorted().first {
            return badRequest("Unknown field '\(FaultProblem.clip(unknown))'.")
        }
        guard case .string(let key)? = object["key"], !key.isEmpty else {
            return badRequest("The key field is required and must be a non-empty string.")
        }
        guard FaultRegistry.acceptsKey(key) else {
            return badRequest("The key field must not exceed \(FaultRegistry.maxKeyBytes) bytes.")
        }
        guard case .object(let faultObject)? = object["fault"] else {
            return badRequest("The fault field is required and must be a JSON object.")
        }
        let fault: Fault
        switch Fault.parse(faultObject) {
        case .success(let parsed): fault = parsed
        case .failure(let problem): return badRequest(problem.message)
        }
        var times: Int?
        switch object["times"] {
        case nil, .null?:
            times = nil
        case .int(let count)? where count >= 1:
            times = count
        default:
            return badRequest("The times field must be a positive integer (leave it out for: until cleared).")
        }

        var route: FaultRoute?
        switch object["route"] {
        case nil, .null?:
            route = nil
        case .string(let name)? where FaultRoute(rawValue: name) != nil:
            route = FaultRoute(rawValue: name)
        default:
            return badRequest("The route field must be one of "
                + FaultRoute.allCases.map(\.rawValue).joined(separator: ", ") + " (leave it out for: every route).")
        }

        let id = "flt_" + Identifiers.hex(24, using: &rng)
        guard faults.arm(key: key, fault: fault, times: times, id: id, route: route) else {
            return badRequest("Too many armed rules (\(FaultRegistry.maxRules)); clear some first.")
        }
        var body = JSONObjectWriter()
        body.string("id", id)
        return SandboxResponse(status: .created, body: body.finish())
    }

    private func clearFaults(key: String?) -> SandboxResponse {
        guard let faults else { return SandboxResponse(status: .notFound, body: Self.notFound) }
        var body = JSONObjectWriter()
        body.int("cleared", key.map { faults.clear(key: $0) } ?? faults.clearAll())
        return SandboxResponse(status: .ok, body: body.finish())
    }

    private func attempts(key: String) -> SandboxResponse {
        guard let faults else { return SandboxResponse(status: .notFound, body: Self.notFound) }
        var body = JSONObjectWriter()
        body.string("key", key)
        body.int("attempts", faults.attempts(key: key))
        return SandboxResponse(status: .ok, body: body.finish())
    }

    private func resetAttempts(key: String?) -> SandboxResponse {
        guard let faults else { return SandboxResponse(status: .notFound, body: Self.notFound) }
        var body = JSONObjectWriter()
        body.int("cleared", key.map { faults.resetAttempts(key: $0) } ?? faults.resetAttempts())
        return SandboxResponse(status: .ok, body: body.finish())
    }

    // MARK: - Fault keys

    /// What a request is, for fault injection.
    enum FaultTarget {
        /// GET /payments/{id}, /offers/{id}, /policies/{id}: its fault key is
        /// the id (percent-decoded).
        case view(key: String)
        /// POST /payments, /quotes, /policies: its fault key is a member of
        /// its body (FaultRoute.createKeyField).
        case create
        /// Any other request to an API route.
        case otherAPI
        case other
    }

    static func faultTarget(method: HTTPMethod, uri: String) -> FaultTarget {
        let segments = requestTarget(uri).segments
        guard isAPI(segments) else { return .other }
        switch faultRoute(method: method, segments: segments) {
        case .paymentCreate?, .quoteCreate?, .offerCreate?:
            return .create
        case .paymentView?, .offerView?, .policyView?:
            return .view(key: percentDecoded(segments[2]))
        case nil:
            return .otherAPI
        }
    }

    /// Whether the path is under one of the API's collections (what
    /// --random-faults and --response-delay-ms apply to). A switch rather
    /// than a Set: no hashing per request, and the same == comparison.
    private static func isAPI(_ segments: [Substring]) -> Bool {
        guard segments.count >= 2, segments[0] == "" else { return false }
        switch segments[1] {
        case "payments", "quotes", "policies", "offers": return true
        default: return false
        }
    }

    /// The route a rule's "route" names, for an API request.
    static func faultRoute(method: HTTPMethod, uri: String) -> FaultRoute? {
        let segments = requestTarget(uri).segments
        return faultRoute(method: method, segments: segments)
    }

    private static func faultRoute(method: HTTPMethod, segments: [Substring]) -> FaultRoute? {
        guard segments.count >= 2, segments[0] == "" else { return nil }
        if segments.count == 2 && method == .POST {
            switch segments[1] {
            case "payments": return .paymentCreate
            case "quotes": return .quoteCreate
            case "policies": return .offerCreate
            default: return nil
            }
        }
        if segments.count == 3 && !segments[2].isEmpty && method == .GET {
            switch segments[1] {
            case "payments": return .paymentView
            case "offers": return .offerView
            case "policies": return .policyView
            default: return nil
            }
        }
        return nil
    }

    /// The fault key of a create: the body's `field` (policy_id of a
    /// payment), when the body is a JSON object with a non-empty string there.
    static func createFaultKey(_ body: ByteBuffer?, field: String = "policy_id") -> String? {
        guard let value = jsonObject(body)?[field] as? String, !value.isEmpty else { return nil }
        return value
    }

    private static func percentDecoded(_ segment: Substring) -> String {
        let raw = String(segment)
        return raw.removingPercentEncoding ?? raw
    }

    // MARK: - Helpers

    func badRequest(_ message: String) -> SandboxResponse {
        SandboxResponse(status: .badRequest, body: JSON.error(status: "Bad Request", message: message))
    }

    enum BearerCheck {
        case absent
        case valid
        case invalid
    }

    /// Exactly one `Authorization: Bearer <secret>`; anything else present
    /// (other scheme, other key, repeated header) is invalid.
    func bearerCheck(_ headers: HTTPHeaders) -> BearerCheck {
        let values = headers["Authorization"]
        if values.isEmpty { return .absent }
        guard values.count == 1, values[0] == bearerValue else { return .invalid }
        return .valid
    }

    private struct FieldProblem: Error {
        let message: String
    }

    private static func requiredString(_ object: [String: Any], _ name: String) -> Result<String, FieldProblem> {
        guard let raw = object[name], !(raw is NSNull) else {
            return .failure(FieldProblem(message: "The \(name) field is required."))
        }
        guard let value = raw as? String else {
            return .failure(FieldProblem(message: "The \(name) field must be a string."))
        }
        guard !value.isEmpty else {
            return .failure(FieldProblem(message: "The \(name) field is required."))
        }
        return .success(value)
    }

    private static func jsonObject(_ body: ByteBuffer?) -> [String: Any]? {
        guard let body, body.readableBytes > 0 else { return nil }
        let data = Data(body.readableBytesView)
        return (try? JSONSerialization.jsonObject(with: data, options: [])) as? [String: Any]
    }

    /// A request target's path segments (split on "/", empty ones kept, so
    /// the first is "" for a path starting with "/") and its query.
    private static func requestTarget(_ uri: String) -> (segments: [Substring], query: Substring) {
        let (path, query) = splitURI(uri)
        return (pathSegments(path), query)
    }

    // Request targets are split on their UTF-8 bytes when they are printable
    // ASCII, as every real client's are: there each byte is one Character,
    // so the result is the Character-based split's, without the grapheme
    // breaking that made it a tenth of the sandbox's CPU. Any other target
    // keeps the Character-based split, where a combining mark joins the "/",
    // "?" or "#" before it and so is not one.

    private static func isPrintableASCII(_ bytes: Substring.UTF8View) -> Bool {
        bytes.withContiguousStorageIfAvailable { $0.allSatisfy { $0 &- 0x21 < 0x5E } }
            ?? bytes.allSatisfy { $0 &- 0x21 < 0x5E }
    }

    private static func pathSegments(_ path: Substring) -> [Substring] {
        let bytes = path.utf8
        guard isPrintableASCII(bytes) else {
            return path.split(separator: "/", omittingEmptySubsequences: false)
        }
        var segments: [Substring] = []
        segments.reserveCapacity(6)
        var start = bytes.startIndex
        var index = start
        while index != bytes.endIndex {
            if bytes[index] == UInt8(ascii: "/") {
                segments.append(Substring(bytes[start..<index]))
                start = bytes.index(after: index)
            }
            index = bytes.index(after: index)
        }
        segments.append(Substring(bytes[start..<bytes.endIndex]))
        return segments
    }

    /// Splits a request target into path and query, accepting the absolute
    /// form (`http://host/path`) that proxies send.
    private static func splitURI(_ uri: String) -> (path: Substring, query: Substring) {
        let bytes = Substring(uri).utf8
        guard isPrintableASCII(bytes) else { return splitURICharacters(uri) }
        let end = bytes.firstIndex(of: UInt8(ascii: "#")) ?? bytes.endIndex
        var start = bytes.startIndex
        if start == end || bytes[start] != UInt8(ascii: "/"), let scheme = schemeEnd(bytes[start..<end]) {
            guard let slash = bytes[scheme..<end].firstIndex(of: UInt8(ascii: "/")) else { return ("/", "") }
            start = slash
        }
        guard let question = bytes[start..<end].firstIndex(of: UInt8(ascii: "?")) else {
            return (Substring(bytes[start..<end]), "")
        }
        return (Substring(bytes[start..<question]), Substring(bytes[bytes.index(after: question)..<end]))
    }

    /// Where the first "://" of `bytes` ends.
    private static func schemeEnd(_ bytes: Substring.UTF8View) -> Substring.UTF8View.Index? {
        var index = bytes.startIndex
        while index != bytes.endIndex {
            if bytes[index] == UInt8(ascii: ":") {
                let second = bytes.index(after: index)
                if second != bytes.endIndex, bytes[second] == UInt8(ascii: "/") {
                    let third = bytes.index(after: second)
                    if third != bytes.endIndex, bytes[third] == UInt8(ascii: "/") {
                        return bytes.index(after: third)
                    }
                }
            }
            index = bytes.index(after: index)
        }
        return nil
    }

    private static func splitURICharacters(_ uri: String) -> (path: Substring, query: Substring) {
        var target = Substring(uri)
        if let hash = target.firstIndex(of: "#") {
            target = target[..<hash]
        }
        if !target.hasPrefix("/"), let scheme = target.range(of: "://") {
            let afterScheme = target[scheme.upperBound...]
            target = afterScheme.firstIndex(of: "/").map { afterScheme[$0...] } ?? "/"
        }
        guard let question = target.firstIndex(of: "?") else { return (target, "") }
        return (target[..<question], target[target.index(after: question)...])
    }

    private static func route(_ segments: [Substring], faults: Bool) -> Route {
        guard segments.first == "" else { return .unknown }
        if faults && segments.count >= 3 && segments[1] == "__sandbox" {
            switch (segments.count, segments[2]) {
            case (3, "faults"): return .faults
            case (4, "faults") where !segments[3].isEmpty: return .faultsOfKey(percentDecoded(segments[3]))
            case (3, "attempts"): return .attempts
            case (4, "attempts") where !segments[3].isEmpty: return .attemptsOfKey(percentDecoded(segments[3]))
            default: break
            }
        }
        switch segments.count {
        case 2 where segments[1] == "payments":
            return .payments
        case 3 where segments[1] == "payments" && !segments[2].isEmpty:
            return .payment(id: String(segments[2]))
        case 2 where segments[1] == "quotes":
            return .quotes
        case 2 where segments[1] == "policies":
            return .policies
        case 3 where segments[1] == "policies" && !segments[2].isEmpty:
            return .policy(id: String(segments[2]))
        case 3 where segments[1] == "offers" && !segments[2].isEmpty:
            return .offer(id: String(segments[2]))
        case 3 where segments[1] == "__sandbox" && segments[2] == "offers":
            return .offers
        case 5 where segments[1] == "__sandbox" && segments[2] == "offers" && !segments[3].isEmpty
            && segments[4] == "approve":
            return .approve(offerId: String(segments[3]))
        case 5 where segments[1] == "__sandbox" && segments[2] == "policies" && !segments[3].isEmpty
            && segments[4] == "payments":
            return .paymentsOfPolicy(String(segments[3]))
        case 3 where segments[1] == "__sandbox" && segments[2] == "stats":
            return .stats
        case 4 where segments[1] == "__sandbox" && segments[2] == "webhooks" && segments[3] == "deliveries":
            return .deliveries
        case 3 where segments[1] == "__sandbox" && segments[2] == "health":
            return .health
        case 3 where segments[1] == "__sandbox" && segments[2] == "connections":
            return .connections
        case 5 where segments[1] == "__sandbox" && segments[2] == "payments" && !segments[3].isEmpty
            && segments[4] == "settle":
            return .settle(paymentId: String(segments[3]))
        default:
            return .unknown
        }
    }

    /// First value of `name` in a query string, percent-decoded.
    static func queryValue(_ name: String, in query: Substring) -> String? {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let rawName = String(parts[0])
            guard (rawName.removingPercentEncoding ?? rawName) == name else { continue }
            let rawValue = parts.count > 1 ? String(parts[1]) : ""
            return rawValue.removingPercentEncoding ?? rawValue
        }
        return nil
    }
}

extension Router.FaultTarget {
    /// A request to an API route (/payments, /quotes, /policies, /offers):
    /// what --random-faults applies to.
    var isAPI: Bool {
        switch self {
        case .view, .create, .otherAPI: return true
        case .other: return false
        }
    }
}
