/// A client of the KASKO Payments API. Immutable after creation and safe to
/// use from many threads at once; calls block until they have an answer.
public final class KaskoClient: Sendable {
    public let configuration: Configuration
    private let transport: Transport
    private let retryPolicy: RetryPolicy
    /// Built once: the public key is fixed for the client's life.
    private let createURL: String
    private let paymentsURLPrefix: String

    public init(configuration: Configuration) throws(KaskoError) {
        self.configuration = configuration
        transport = try Transport(configuration: configuration)
        retryPolicy = RetryPolicy(maxRetries: configuration.maxRetries)
        // Keys are letters, digits and '_' (checked in APIKey): no escaping needed.
        createURL = configuration.baseURL.text + "/payments?key=" + (configuration.publicKey.publishableText ?? "")
        paymentsURLPrefix = configuration.baseURL.text + "/payments/"
    }

    public convenience init(configurationJSON: String) throws(KaskoError) {
        try self.init(configuration: try Configuration(json: configurationJSON))
    }

    /// `POST /payments`: turns an offer into a paid policy.
    public func createPayment(_ request: PaymentRequest) -> Result<PaymentJSON, KaskoError> {
        execute(
            HTTPRequest(method: .post, url: createURL, body: request.body),
            operation: .createPayment(policyID: request.policyID), callSecrets: [request.token])
    }

    public func createPayment(json: String) -> Result<PaymentJSON, KaskoError> {
        do {
            return createPayment(try PaymentRequest(json: json))
        } catch {
            return .failure(error)
        }
    }

    /// `GET /payments/{id}`.
    public func getPayment(id: String) -> Result<PaymentJSON, KaskoError> {
        let paymentID: PaymentID
        do {
            paymentID = try PaymentID(id)
        } catch {
            return .failure(error)
        }
        return execute(
            HTTPRequest(method: .get, url: paymentsURLPrefix + paymentID.value, body: []),
            operation: .getPayment(id: paymentID.value), callSecrets: [])
    }

    /// Attempts until success or until `OutcomeRules` and `max_retries` say
    /// stop. `callSecrets` (a payment token) are redacted from the error
    /// together with the client's keys.
    private func execute(_ request: HTTPRequest, operation: Operation, callSecrets: [String]) -> Result<PaymentJSON, KaskoError> {
        var attempt = 0
        while true {
            attempt += 1
            let failed: FailedAttempt
            var retryAfterSeconds: Int?
            switch transport.send(request) {
            case .success(let response):
                switch ResponseInterpreter.interpret(response, for: operation) {
                case .success(let payment):
                    return .success(payment)
                case .failure(let failure):
                    failed = failure
                    retryAfterSeconds = response.retryAfterSeconds
                }
            case .failure(let failure):
                failed = FailedAttempt(evidence: failure.evidence, error: KaskoClient.error(for: failure, call: operation.call))
            }
            let verdict = OutcomeRules.verdict(failed.evidence, for: operation.call)
            if retryPolicy.shouldRetry(verdict, attempt: attempt) {
                RetryPolicy.sleep(milliseconds: retryPolicy.delayMilliseconds(afterAttempt: attempt, retryAfterSeconds: retryAfterSeconds))
                continue
            }
            var error = failed.error
            error.attempts = attempt
            return .failure(error.redacted(by: Redactor(configuration: configuration, callSecrets: callSecrets)))
        }
    }

    static func error(for failure: TransportFailure, call: CallKind) -> KaskoError {
        KaskoError(
            verdict: OutcomeRules.verdict(failure.evidence, for: call), message: failure.message,
            httpStatus: failure.httpStatus, statusText: failure.httpStatus.flatMap(ResponseInterpreter.reasonPhrase),
            requestID: failure.requestID)
    }
}
