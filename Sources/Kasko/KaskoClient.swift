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
        execute(HTTPRequest(method: .post, url: createURL, body: request.body), operation: .createPayment)
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
            operation: .getPayment(id: paymentID.value))
    }

    private func execute(_ request: HTTPRequest, operation: Operation) -> Result<PaymentJSON, KaskoError> {
        var attempt = 0
        while true {
            attempt += 1
            let delay: Int
            switch transport.send(request) {
            case .success(let response):
                if retryPolicy.shouldRetry(response, method: request.method, attempt: attempt) {
                    delay = retryPolicy.delayMilliseconds(afterAttempt: attempt, retryAfterSeconds: response.retryAfterSeconds)
                } else {
                    return ResponseInterpreter.interpret(response, for: operation).mapError { error in
                        var counted = error
                        counted.attempts = attempt
                        return counted
                    }
                }
            case .failure(let failure):
                if retryPolicy.shouldRetry(failure, method: request.method, attempt: attempt) {
                    delay = retryPolicy.delayMilliseconds(afterAttempt: attempt, retryAfterSeconds: nil)
                } else {
                    return .failure(KaskoClient.error(for: failure, method: request.method, attempts: attempt))
                }
            }
            RetryPolicy.sleep(milliseconds: delay)
        }
    }

    static func error(for failure: TransportFailure, method: HTTPRequest.Method, attempts: Int) -> KaskoError {
        switch failure.kind {
        case .bodyTooLarge:
            return KaskoError(
                status: .invalidResponse, message: failure.message, httpStatus: failure.httpStatus,
                statusText: failure.httpStatus.flatMap(ResponseInterpreter.reasonPhrase),
                outcome: method == .post ? .unknown : .rejected, attempts: attempts, requestID: failure.requestID)
        case .local:
            return KaskoError(status: .internal, message: failure.message, attempts: attempts)
        case .notSent, .tls:
            return KaskoError(
                status: .network, message: failure.message, retryable: failure.kind == .notSent,
                outcome: .notSent, attempts: attempts)
        case .noAnswer:
            return KaskoError(
                status: .network, message: failure.message, httpStatus: failure.httpStatus,
                statusText: failure.httpStatus.flatMap(ResponseInterpreter.reasonPhrase),
                // Sent, no usable answer: the server may have acted on it. Only a
                // view is safe to repeat.
                retryable: method == .get, outcome: .unknown,
                attempts: attempts, requestID: failure.requestID)
        }
    }
}
