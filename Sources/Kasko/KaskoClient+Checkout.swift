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
        let request: CheckoutRequest
        do {
            request = try CheckoutRequest.quote(json: json)
        } catch {
            return .failure(refused(error, operation: .quoteCreate))
        }
        var http = HTTPRequest(method: .post, urlPrefix: checkoutURLs.quote, body: request.body)
        http.accept = .v3
        return execute(
            http, pathPrefix: checkoutURLs.quotePath, event: .quoteCreate, options: options, operation: .createQuote,
            callSecrets: [], deliver: deliver)
    }

    /// `POST /policies` (v2): an offer, the unpaid policy whose id and
    /// payment token a payment needs. A create: sent at most once.
    public func createOffer(
        json: String, options: CallOptions? = nil, deliver: (PaymentJSON) -> Void
    ) -> Result<Void, KaskoError> {
        let request: CheckoutRequest
        do {
            request = try CheckoutRequest.offer(json: json)
        } catch {
            return .failure(refused(error, operation: .offerCreate))
        }
        return execute(
            HTTPRequest(method: .post, urlPrefix: checkoutURLs.offerCreate, body: request.body),
            pathPrefix: checkoutURLs.offerCreatePath, event: .offerCreate, options: options, operation: .createOffer,
            callSecrets: [], deliver: deliver)
    }

    /// `GET /offers/{id}`: an offer, e.g. for its payment token once manual
    /// underwriting has approved it.
    public func getOffer(
        id: String, options: CallOptions? = nil, deliver: (PaymentJSON) -> Void
    ) -> Result<Void, KaskoError> {
        view(id, .offerGet, prefix: (checkoutURLs.offerPrefix, checkoutURLs.offerPathPrefix), options: options,
             deliver: deliver)
    }

    /// `GET /policies/{id}` (v2): the policy, whose `status` says whether it
    /// is paid; its `ETag` and `Last-Modified` come with it.
    public func getPolicy(
        id: String, options: CallOptions? = nil, deliver: (PaymentJSON) -> Void
    ) -> Result<Void, KaskoError> {
        view(id, .policyGet, prefix: (checkoutURLs.policyPrefix, checkoutURLs.policyPathPrefix), options: options,
             deliver: deliver)
    }

    /// A view of an offer or a policy by its id: checked before it goes
    /// into the path, then one `execute`. A policy view also reads the
    /// response's validators (ETag, Last-Modified).
    private func view(
        _ id: String, _ event: EventOperation, prefix: (url: String, path: String), options: CallOptions?,
        deliver: (PaymentJSON) -> Void
    ) -> Result<Void, KaskoError> {
        let policyID: PolicyID
        do {
            policyID = try PolicyID(id)
        } catch {
            return .failure(refused(error, operation: event))
        }
        var http = HTTPRequest(method: .get, urlPrefix: prefix.url, urlSuffix: policyID.value, body: [])
        http.readsValidators = event == .policyGet
        let operation: Operation = event == .policyGet ? .getPolicy(id: policyID.value) : .getOffer(id: policyID.value)
        return execute(
            http, pathPrefix: prefix.path, event: event, options: options, operation: operation, callSecrets: [],
            deliver: deliver)
    }

    // The same calls for Swift callers who keep the answer.
    public func createQuote(json: String) -> Result<PaymentJSON, KaskoError> { keeping { createQuote(json: json, deliver: $0) } }
    public func createOffer(json: String) -> Result<PaymentJSON, KaskoError> { keeping { createOffer(json: json, deliver: $0) } }
    public func getOffer(id: String) -> Result<PaymentJSON, KaskoError> { keeping { getOffer(id: id, deliver: $0) } }
    public func getPolicy(id: String) -> Result<PaymentJSON, KaskoError> { keeping { getPolicy(id: id, deliver: $0) } }
}
