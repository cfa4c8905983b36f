/// The checkout's URLs, built once per client: the public key is fixed for
/// the client's life, and the paths are what errors and events name.
struct CheckoutURLs: Sendable {
    let quote: String
    let quotePath: String
    let offerCreate: String
    let offerCreatePath: String
    let offerPrefix: String
    let offerPathPrefix: String
    let policyPrefix: String
    let policyPathPrefix: String

    init(configuration: Configuration) {
        let base = configuration.baseURL
        // Keys are letters, digits and '_' (checked in APIKey): no escaping needed.
        let key = "?key=" + (configuration.publicKey.publishableText ?? "")
        quote = base.text + "/quotes" + key
        quotePath = base.path + "/quotes"
        offerCreate = base.text + "/policies" + key
        offerCreatePath = base.path + "/policies"
        offerPrefix = base.text + "/offers/"
        offerPathPrefix = base.path + "/offers/"
        policyPrefix = base.text + "/policies/"
        policyPathPrefix = base.path + "/policies/"
    }
}

/// Quote → offer → (payment) → policy: the calls around a payment. Each is
/// one `execute`, so retries, outcome truth, redaction and events are the
/// payments' own; only the request and the check of its answer differ.
extension KaskoClient {
    /// `POST /quotes` (v3): the price of an insurance, and the token an
    /// offer is made from. Repeated like a view (see `Operation.call`).
    public func createQuote(
        json: String, options: CallOptions? = nil, deliver: (PaymentJSON) -> Void
    ) -> Result<Void, KaskoError> {
        execute(planQuoteCreate(json: json), options: options, deliver: deliver)
    }

    public func planQuoteCreate(json: String) -> PlannedCall {
        let request: CheckoutRequest
        do {
            request = try CheckoutRequest.quote(json: json)
        } catch {
            return PlannedCall(refused: error, event: .quoteCreate)
        }
        var http = HTTPRequest(method: .post, urlPrefix: checkoutURLs.quote, body: request.body)
        http.accept = .v3
        return PlannedCall(PreparedCall(
            request: http, pathPrefix: checkoutURLs.quotePath, event: .quoteCreate, operation: .createQuote,
            callSecrets: []))
    }

    /// `POST /policies` (v2): an offer, the unpaid policy whose id and
    /// payment token a payment needs. A create: sent at most once.
    public func createOffer(
        json: String, options: CallOptions? = nil, deliver: (PaymentJSON) -> Void
    ) -> Result<Void, KaskoError> {
        execute(planOfferCreate(json: json), options: options, deliver: deliver)
    }

    public func planOfferCreate(json: String) -> PlannedCall {
        let request: CheckoutRequest
        do {
            request = try CheckoutRequest.offer(json: json)
        } catch {
            return PlannedCall(refused: error, event: .offerCreate)
        }
        return PlannedCall(PreparedCall(
            request: HTTPRequest(method: .post, urlPrefix: checkoutURLs.offerCreate, body: request.body),
            pathPrefix: checkoutURLs.offerCreatePath, event: .offerCreate, operation: .createOffer, callSecrets: []))
    }

    /// `GET /offers/{id}`: an offer, e.g. for its payment token once manual
    /// underwriting has approved it.
    public func getOffer(
        id: String, options: CallOptions? = nil, deliver: (PaymentJSON) -> Void
    ) -> Result<Void, KaskoError> {
        execute(planOfferGet(id: id), options: options, deliver: deliver)
    }

    public func planOfferGet(id: String) -> PlannedCall {
        planView(id, .offerGet, prefix: (checkoutURLs.offerPrefix, checkoutURLs.offerPathPrefix))
    }

    /// `GET /policies/{id}` (v2): the policy, whose `status` says whether it
    /// is paid; its `ETag` and `Last-Modified` come with it.
    public func getPolicy(
        id: String, options: CallOptions? = nil, deliver: (PaymentJSON) -> Void
    ) -> Result<Void, KaskoError> {
        execute(planPolicyGet(id: id), options: options, deliver: deliver)
    }

    public func planPolicyGet(id: String) -> PlannedCall {
        planView(id, .policyGet, prefix: (checkoutURLs.policyPrefix, checkoutURLs.policyPathPrefix))
    }

    /// A view of an offer or a policy by its id: checked before it goes
    /// into the path. A policy view also reads the response's validators
    /// (ETag, Last-Modified).
    private func planView(_ id: String, _ event: EventOperation, prefix: (url: String, path: String)) -> PlannedCall {
        let policyID: PolicyID
        do {
            policyID = try PolicyID(id)
        } catch {
            return PlannedCall(refused: error, event: event)
        }
        var http = HTTPRequest(method: .get, urlPrefix: prefix.url, urlSuffix: policyID.value, body: [])
        http.readsValidators = event == .policyGet
        let operation: Operation = event == .policyGet ? .getPolicy(id: policyID.value) : .getOffer(id: policyID.value)
        return PlannedCall(PreparedCall(
            request: http, pathPrefix: prefix.path, event: event, operation: operation, callSecrets: []))
    }

    // The same calls for Swift callers who keep the answer.
    public func createQuote(json: String) -> Result<PaymentJSON, KaskoError> { keeping { createQuote(json: json, deliver: $0) } }
    public func createOffer(json: String) -> Result<PaymentJSON, KaskoError> { keeping { createOffer(json: json, deliver: $0) } }
    public func getOffer(id: String) -> Result<PaymentJSON, KaskoError> { keeping { getOffer(id: id, deliver: $0) } }
    public func getPolicy(id: String) -> Result<PaymentJSON, KaskoError> { keeping { getPolicy(id: id, deliver: $0) } }
}
