// The checkout's endpoints beyond /payments (contract 14): quotes, offers,
// policies and their asynchronous creation, and the sandbox-only counters
// and approval. Like the payment handlers, these never throw: every input
// maps to a documented error body.

import NIOCore
import NIOHTTP1

extension Router {
    static let quoteMediaType = "application/vnd.kasko.v3+json"
    static let offerMediaType = "application/vnd.kasko.v2+json"
    static let validationFailed = "Data validation failed."

    /// The shortcut offer's customer (POST /__sandbox/offers has no body).
    static let sandboxCustomer = Customer(
        firstName: "Sandbox", lastName: "Customer", email: "customer@example.com", language: "de")

    // MARK: - POST /quotes

    func createQuote(_ request: SandboxRequest, query: Substring) -> SandboxResponse {
        if let refusal = publicKeyRefusal(request, query: query) { return refusal }
        guard Self.accepts(request.headers, Self.quoteMediaType) else {
            return badRequest("Quotes need Accept: \(Self.quoteMediaType).")
        }
        switch QuoteEngine.quote(Self.checkoutObject(request.body)) {
        case .failure(.notObject):
            return SandboxResponse(status: .badRequest, body: Self.bodyNotObject)
        case .failure(.invalid(let problems)):
            return Self.validationError(problems)
        case .failure(.notFound(let message)):
            return SandboxResponse(status: .notFound, body: JSON.error(status: "Not Found", message: message))
        case .failure(.conflict(let message)):
            return SandboxResponse(status: .conflict, body: JSON.error(status: "Conflict", message: message))
        case .success(let quote):
            store.addQuote(quote)
            return SandboxResponse(status: .ok, body: OfferObject.quoteAnswer(quote))
        }
    }

    // MARK: - POST /policies (an offer)

    func createOffer(
        _ request: SandboxRequest, query: Substring, baseURL: String, rng: inout FastRandom
    ) -> SandboxResponse {
        if let refusal = publicKeyRefusal(request, query: query) { return refusal }
        guard Self.accepts(request.headers, Self.offerMediaType) else {
            return badRequest("Offers need Accept: \(Self.offerMediaType).")
        }
        guard let body = Self.checkoutObject(request.body) else {
            return SandboxResponse(status: .badRequest, body: Self.bodyNotObject)
        }

        var problems: [FieldError] = []
        func requiredString(_ name: String, valid: (String) -> Bool = { _ in true }) -> String? {
            switch body[name] {
            case nil, .null?:
                problems.append(FieldError(code: .required, field: name))
            case .string(let text)? where text.isEmpty:
                problems.append(FieldError(code: .required, field: name))
            case .string(let text)? where valid(text):
                return text
            default:
                problems.append(FieldError(code: .invalidValue, field: name))
            }
            return nil
        }
        /// An optional object, [] meaning empty; nil members, JSON text otherwise.
        func optionalObject(_ name: String, empty: String) -> (text: String, members: [String: JSONValue]) {
            switch body[name] {
            case nil, .null?:
                return (empty, [:])
            case .array(let items)? where items.isEmpty:
                return (empty, [:])
            case .object(let members)?:
                return (members.isEmpty ? empty : JSONValue.object(members).text, members)
            default:
                problems.append(FieldError(code: .invalidValue, field: name))
                return (empty, [:])
            }
        }

        let quote: Quote?
        if let token = requiredString("quote_token"), let stored = store.quote(token: token) {
            quote = stored
        } else {
            if case .string(let text)? = body["quote_token"], !text.isEmpty {
                problems.append(FieldError(code: .invalidValue, field: "quote_token"))
            }
            quote = nil
        }
        let firstName = requiredString("first_name")
        let lastName = requiredString("last_name")
        let email = requiredString("email", valid: Self.isEmail)
        let language = requiredString("language", valid: Self.isLanguage)
        let data = optionalObject("data", empty: "[]")
        let metadata = optionalObject("metadata", empty: "{}")
        guard problems.isEmpty, let quote, let firstName, let lastName, let email, let language else {
            return Self.validationError(problems)
        }

        let needsApproval = data.members["manual_underwriting"] == .bool(true)
        let now = Timestamps.nowEpochSeconds()
        let offer = store.addOffer(Offer(
            policyId: Identifiers.policyId(live: config.livemode, using: &rng),
            token: needsApproval ? nil : Identifiers.paymentToken(using: &rng),
            customerId: Identifiers.customerId(using: &rng),
            quote: quote,
            insurerPolicyId: Identifiers.insurerPolicyId(using: &rng),
            customer: Customer(firstName: firstName, lastName: lastName, email: email, language: language),
            dataJSON: data.text,
            metadataJSON: metadata.text,
            livemode: config.livemode,
            status: needsApproval ? .pending : .ready,
            lastModified: now,
            createdAt: now))
        return SandboxResponse(status: .created, body: OfferObject.created(offer, baseURL: baseURL))
    }

    // MARK: - GET /offers/{id}, GET /policies/{id}

    func viewOffer(_ request: SandboxRequest, id: String, baseURL: String) -> SandboxResponse {
        guard bearerCheck(request.headers) == .valid else {
            return SandboxResponse(status: .unauthorized, body: Self.unauthorizedView)
        }
        guard let offer = store.offer(id: id) else {
            return SandboxResponse(
                status: .notFound, body: JSON.error(status: "Not Found", message: "Offer - \(id) could not be found."))
        }
        return SandboxResponse(status: .ok, body: OfferObject.full(offer, baseURL: baseURL))
    }

    func viewPolicy(_ request: SandboxRequest, id: String, baseURL: String) -> SandboxResponse {
        guard bearerCheck(request.headers) == .valid else {
            return SandboxResponse(status: .unauthorized, body: Self.unauthorizedView)
        }
        guard Self.accepts(request.headers, Self.offerMediaType) else {
            return badRequest("Policies need Accept: \(Self.offerMediaType).")
        }
        guard let offer = store.offer(id: id) else {
            return Self.policyNotFound(id)
        }
        // ETag unquoted: KASKO's docs pass it back as If-Match as it is.
        return SandboxResponse(
            status: .ok, body: PolicyObject.full(offer, baseURL: baseURL),
            extraHeaders: [("ETag", offer.versionId), ("Last-Modified", Timestamps.httpDate(offer.lastModified))])
    }

    // MARK: - Asynchronous policy creation

    /// A payment on the policy became "ok": the policy is created after
    /// --policy-delay-ms, on a timer, and announced by webhook.
    func schedulePolicyCreation(policyId: String, baseURL: String) {
        group.next().scheduleTask(in: .milliseconds(Int64(config.policyDelayMs))) {
            guard let offer = self.store.issuePolicy(policyId: policyId) else { return }
            self.webhooks?.send(event: "policy.created", policyId: offer.policyId,
                                body: PolicyObject.webhookPayload(offer, baseURL: baseURL))
        }
    }

    // MARK: - Sandbox-only

    /// POST /__sandbox/offers: an offer as if from a quote of
    /// pp_sandbox_single, trip_cost 100000, starting today.
    func createSandboxOffer(rng: inout FastRandom) -> SandboxResponse {
        let quote = QuoteEngine.price(
            integrationId: Catalog.travelIntegration, itemId: Catalog.travelItem, plan: .single, tripCost: 100_000,
            startDay: CalendarDay.today())
        let now = Timestamps.nowEpochSeconds()
        let offer = store.addOffer(Offer(
            policyId: Identifiers.policyId(live: config.livemode, using: &rng),
            token: Identifiers.paymentToken(using: &rng),
            customerId: Identifiers.customerId(using: &rng),
            quote: quote,
            insurerPolicyId: Identifiers.insurerPolicyId(using: &rng),
            customer: Self.sandboxCustomer,
            dataJSON: "[]",
            metadataJSON: "{}",
            livemode: config.livemode,
            status: .ready,
            lastModified: now,
            createdAt: now))
        var body = JSONObjectWriter()
        body.string("policy_id", offer.policyId)
        body.optionalString("token", offer.token)
        return SandboxResponse(status: .created, body: body.finish())
    }

    /// POST /__sandbox/offers/{id}/approve: manual underwriting done.
    func approveOffer(_ id: String, baseURL: String, rng: inout FastRandom) -> SandboxResponse {
        switch store.approve(offerId: id, token: Identifiers.paymentToken(using: &rng)) {
        case .notFound:
            return SandboxResponse(
                status: .notFound, body: JSON.error(status: "Not Found", message: "Offer - \(id) could not be found."))
        case .notPending(let status):
            return SandboxResponse(
                status: .conflict,
                body: JSON.error(
                    status: "Conflict", message: "Offer - \(id) is not awaiting approval (status \(status.rawValue))."))
        case .approved(let offer):
            return SandboxResponse(status: .ok, body: OfferObject.full(offer, baseURL: baseURL))
        }
    }

    /// GET /__sandbox/policies/{id}/payments: every payment ever created on it.
    func paymentsOfPolicy(_ id: String) -> SandboxResponse {
        guard let offer = store.offer(id: id) else { return Self.policyNotFound(id) }
        var body = JSONObjectWriter()
        body.string("policy_id", offer.policyId)
        var list = "["
        for (index, paymentId) in offer.paymentIds.enumerated() {
            if index > 0 { list += "," }
            JSON.appendString(paymentId, to: &list)
        }
        body.raw("payments", list + "]")
        return SandboxResponse(status: .ok, body: body.finish())
    }

    /// GET /__sandbox/stats.
    func stats() -> SandboxResponse {
        let counts = store.counts()
        var body = JSONObjectWriter()
        body.int("quotes", counts.quotes)
        body.int("offers", counts.offers)
        body.int("payments", counts.payments)
        body.int("policies_paid", counts.policiesPaid)
        body.int("webhook_deliveries", deliveries.count)
        return SandboxResponse(status: .ok, body: body.finish())
    }

    // MARK: - Helpers

    /// The checkout routes' credentials, as POST /payments checks them: the
    /// public key in ?key=, and a Bearer secret that is optional but must be
    /// right when sent.
    private func publicKeyRefusal(_ request: SandboxRequest, query: Substring) -> SandboxResponse? {
        guard Self.queryValue("key", in: query) == config.publicKey, bearerCheck(request.headers) != .invalid else {
            return SandboxResponse(status: .unauthorized, body: Self.unauthorizedView)
        }
        return nil
    }

    static func policyNotFound(_ id: String) -> SandboxResponse {
        SandboxResponse(
            status: .notFound, body: JSON.error(status: "Not Found", message: "Policy - \(id) could not be found."))
    }

    /// Exactly one Accept header naming exactly `mediaType` (compared
    /// without case, as media types are).
    static func accepts(_ headers: HTTPHeaders, _ mediaType: String) -> Bool {
        let values = headers["Accept"]
        guard values.count == 1 else { return false }
        return values[0].trimmingASCIISpaces().lowercased() == mediaType
    }

    static func checkoutObject(_ body: ByteBuffer?) -> [String: JSONValue]? {
        guard let body else { return nil }
        return JSONValue.object(Array(body.readableBytesView))
    }

    /// 400 "Data validation failed." with every problem, in order.
    static func validationError(_ problems: [FieldError]) -> SandboxResponse {
        var body = JSONObjectWriter()
        body.string("status", "Bad Request")
        body.string("message", validationFailed)
        let items = problems.map { problem -> String in
            var item = JSONObjectWriter()
            item.string("code", problem.code.rawValue)
            item.string("field", problem.field)
            return item.finish()
        }
        body.raw("errors", "[" + items.joined(separator: ",") + "]")
        return SandboxResponse(status: .badRequest, body: body.finish())
    }

    /// One "@" with text on either side; no spaces.
    static func isEmail(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && !parts[1].isEmpty && !text.contains(where: \.isWhitespace)
    }

    /// Two letters a-z.
    static func isLanguage(_ text: String) -> Bool {
        text.utf8.count == 2 && text.utf8.allSatisfy { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }
    }
}

extension String {
    func trimmingASCIISpaces() -> String {
        var slice = Substring(self)
        while slice.first == " " || slice.first == "\t" { slice = slice.dropFirst() }
        while slice.last == " " || slice.last == "\t" { slice = slice.dropLast() }
        return String(slice)
    }
}
