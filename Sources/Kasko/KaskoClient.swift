/// A client of the KASKO Payments API. Immutable after creation and safe to
/// use from many threads at once; calls block until they have an answer.
public final class KaskoClient: Sendable {
    public let configuration: Configuration
    private let transport: Transport
    private let retryPolicy: RetryPolicy
    /// Built once: the public key is fixed for the client's life.
    private let createURL: String
    private let paymentsURLPrefix: String
    /// The paths errors name requests by: no query (it holds the public key).
    private let createPath: String
    private let paymentsPathPrefix: String
    /// The checkout's URLs (quote, offer, policy), built once like the payments'.
    let checkoutURLs: CheckoutURLs
    /// The client's event hook (issue 13); calls read it once each.
    public let eventHooks = EventHooks()

    public init(configuration: Configuration) throws(KaskoError) {
        self.configuration = configuration
        transport = try Transport(configuration: configuration)
        retryPolicy = RetryPolicy(maxRetries: configuration.maxRetries)
        // Keys are letters, digits and '_' (checked in APIKey): no escaping needed.
        createURL = configuration.baseURL.text + "/payments?key=" + (configuration.publicKey.publishableText ?? "")
        paymentsURLPrefix = configuration.baseURL.text + "/payments/"
        createPath = configuration.baseURL.path + "/payments"
        paymentsPathPrefix = configuration.baseURL.path + "/payments/"
        checkoutURLs = CheckoutURLs(configuration: configuration)
    }

    public convenience init(configurationJSON: String) throws(KaskoError) {
        try self.init(configuration: try Configuration(json: configurationJSON))
    }

    /// `POST /payments`: turns an offer into a paid policy.
    public func createPayment(_ request: PaymentRequest) -> Result<PaymentJSON, KaskoError> {
        keeping { createPayment(request, deliver: $0) }
    }

    /// `POST /payments`, handing the payment to `deliver` before the call
    /// returns (not generic: a generic entry point called from another
    /// module would look its metadata up at run time on every call). The
    /// payment's bytes are valid only inside `deliver`: they are the transfer
    /// buffer, reused by the next request (the C API copies them into the
    /// string it returns, and so copies once).
    public func createPayment(
        _ request: PaymentRequest, deliver: (PaymentJSON) -> Void
    ) -> Result<Void, KaskoError> {
        createPayment(request, options: nil, deliver: deliver)
    }

    /// `POST /payments` with the call's own options; the payment delivered
    /// carries its request id.
    public func createPayment(
        _ request: PaymentRequest, options: CallOptions?, deliver: (PaymentJSON) -> Void
    ) -> Result<Void, KaskoError> {
        execute(
            HTTPRequest(method: .post, urlPrefix: createURL, body: request.body), pathPrefix: createPath,
            event: .paymentCreate,
            options: options, operation: .createPayment(policyID: request.policyID), callSecrets: [request.token],
            deliver: deliver)
    }

    public func createPayment(json: String) -> Result<PaymentJSON, KaskoError> {
        keeping { createPayment(json: json, deliver: $0) }
    }

    public func createPayment(json: String, deliver: (PaymentJSON) -> Void) -> Result<Void, KaskoError> {
        do {
            return createPayment(try PaymentRequest(json: json), deliver: deliver)
        } catch {
            return .failure(refused(error, operation: .paymentCreate))
        }
    }

    /// `GET /payments/{id}`.
    public func getPayment(id: String) -> Result<PaymentJSON, KaskoError> {
        keeping { getPayment(id: id, deliver: $0) }
    }

    /// `GET /payments/{id}`, handing the payment to `deliver` (see
    /// `createPayment(_:deliver:)`).
    public func getPayment(id: String, deliver: (PaymentJSON) -> Void) -> Result<Void, KaskoError> {
        getPayment(id: id, options: nil, deliver: deliver)
    }

    /// `GET /payments/{id}` with the call's own options; the payment
    /// delivered carries its request id.
    public func getPayment(id: String, options: CallOptions?, deliver: (PaymentJSON) -> Void) -> Result<Void, KaskoError> {
        let paymentID: PaymentID
        do {
            paymentID = try PaymentID(id)
        } catch {
            return .failure(refused(error, operation: .paymentGet))
        }
        return execute(
            HTTPRequest(method: .get, urlPrefix: paymentsURLPrefix, urlSuffix: paymentID.value, body: []),
            pathPrefix: paymentsPathPrefix, event: .paymentGet, options: options, operation: .getPayment(id: paymentID.value),
            callSecrets: [], deliver: deliver)
    }

    /// Reports a call refused before any I/O (a bad argument the C layer or
    /// this client found) to the event hook, as a call end with attempt 0,
    /// and hands the error back. Nothing happens without a hook.
    public func refused(_ error: KaskoError, operation: EventOperation) -> KaskoError {
        if eventHooks.observing {
            let path = configuration.baseURL.path + operation.route
            report(callEndOf: error, operation: operation, path: path, attempts: 0, bytes: (0, 0), total: 0)
        }
        return error
    }

    private func report(
        callEndOf error: KaskoError, operation: EventOperation, path: String, attempts: Int, bytes: (Int64, Int64),
        total: Int64
    ) {
        var fields = EventFields(
            isCallEnd: true, operation: operation, path: path, attempt: attempts, httpStatus: error.httpStatus,
            status: error.status, outcome: error.outcome)
        fields.requestID = error.requestID
        fields.message = error.message
        fields.bytesSent = bytes.0
        fields.bytesReceived = bytes.1
        fields.totalMicroseconds = total
        eventHooks.deliver(fields)
    }

    /// A delivering call's payment, copied out to be kept beyond the call.
    func keeping(
        _ call: ((PaymentJSON) -> Void) -> Result<Void, KaskoError>
    ) -> Result<PaymentJSON, KaskoError> {
        var kept: PaymentJSON?
        return call { kept = $0.copied() }.flatMap {
            // Success means `deliver` ran; anything else is a bug here.
            kept.map { .success($0) } ?? .failure(.internal("a successful call delivered no payment"))
        }
    }

    /// How one attempt ended, decided while its handle was still held.
    private enum AttemptEnd {
        case delivered
        case failed(FailedAttempt, retryAfterSeconds: Int?)
    }

    /// Attempts until success or until `OutcomeRules` and `max_retries` say
    /// stop. `callSecrets` (a payment token) are redacted from the error
    /// together with the client's keys. Options holding a refused value
    /// fail the call before any I/O. With an event hook set (and this thread
    /// not inside one), each attempt and the call's end are reported to it;
    /// without one, the only cost is `observing`'s atomic load.
    func execute(
        _ request: HTTPRequest, pathPrefix: String, event: EventOperation, options: CallOptions?,
        operation: Operation, callSecrets: [String], deliver: (PaymentJSON) -> Void
    ) -> Result<Void, KaskoError> {
        var request = request
        let observing = eventHooks.observing
        let path = observing ? pathPrefix + request.urlSuffix : ""
        if let options {
            if let problem = options.problem {
                if observing {
                    report(callEndOf: problem, operation: event, path: path, attempts: 0, bytes: (0, 0), total: 0)
                }
                return .failure(problem)
            }
            request = request.with(options)
        }
        request.measures = observing
        // A typed result carries the call's wall time; the 1.0 calls do not
        // read the clock unless a hook is set.
        let timed = observing || request.forTypedResult
        let started = timed ? MonotonicClock.microseconds() : 0
        var sent: Int64 = 0
        var received: Int64 = 0
        var attempt = 0
        while true {
            attempt += 1
            var measure: AttemptMeasure?
            var deliveredStatus = 0
            var deliveredRequestID: String?
            var callTime: Int64 = 0
            let end: AttemptEnd = transport.send(request) { result in
                switch result {
                case .success(let response):
                    if observing { measure = response.measure }
                    switch ResponseInterpreter.interpret(response, for: operation, indexingMembers: request.forTypedResult) {
                    case .success(var payment):
                        payment.httpStatus = response.status
                        payment.attempts = attempt
                        // Only a typed result asked for it; the 1.0 calls build no Redactor here.
                        if let requestID = response.requestID {
                            payment.requestID = Redactor(configuration: configuration, callSecrets: callSecrets).requestID(requestID)
                        }
                        if payment.etag != nil || payment.lastModified != nil {
                            let redactor = Redactor(configuration: configuration, callSecrets: callSecrets)
                            payment.etag = payment.etag.map(redactor.requestID)
                            payment.lastModified = payment.lastModified.map(redactor.requestID)
                        }
                        if timed {
                            callTime = MonotonicClock.microseconds() - started
                            payment.totalTimeMicroseconds = callTime
                        }
                        if observing {
                            deliveredStatus = response.status
                            deliveredRequestID = payment.requestID
                        }
                        deliver(payment)
                        return .delivered
                    case .failure(let failure): return .failed(failure, retryAfterSeconds: response.retryAfterSeconds)
                    }
                case .failure(let failure):
                    if observing { measure = failure.measure }
                    return .failed(
                        FailedAttempt(evidence: failure.evidence, error: KaskoClient.error(for: failure, call: operation.call)),
                        retryAfterSeconds: nil)
                }
            }
            // The call's time runs to its answer: the hook's time for the
            // last attempt is not in it (for earlier ones it is, as it
            // delays the next attempt).
            if timed, callTime == 0 { callTime = MonotonicClock.microseconds() - started }
            if observing {
                sent &+= measure?.bytesSent ?? 0
                received &+= measure?.bytesReceived ?? 0
            }
            let failed: FailedAttempt
            let retryAfterSeconds: Int?
            switch end {
            case .delivered:
                if observing {
                    var fields = EventFields(
                        isCallEnd: false, operation: event, path: path, attempt: attempt, httpStatus: deliveredStatus,
                        status: .ok, outcome: nil)
                    fields.requestID = deliveredRequestID
                    fields.record(measure)
                    eventHooks.deliver(fields)
                    fields.isCallEnd = true
                    fields.timings = nil
                    fields.bytesSent = sent
                    fields.bytesReceived = received
                    fields.totalMicroseconds = callTime
                    eventHooks.deliver(fields)
                }
                return .success(())
            case .failed(let failure, let delay):
                failed = failure
                retryAfterSeconds = delay
            }
            let verdict = OutcomeRules.verdict(failed.evidence, for: operation.call)
            let retrying = retryPolicy.shouldRetry(verdict, attempt: attempt)
            let delay = retrying ? retryPolicy.delayMilliseconds(afterAttempt: attempt, retryAfterSeconds: retryAfterSeconds) : 0
            if retrying && !observing {
                RetryPolicy.sleep(milliseconds: delay)
                continue
            }
            // Redacted and described once: for the attempt's event and, on
            // the last attempt, for the call's error.
            var error = failed.error.redacted(by: Redactor(configuration: configuration, callSecrets: callSecrets))
            // Added after redaction: it is ours (the path holds a checked
            // payment id, the hints no key), and a long server message must
            // not push it out.
            error.message += describing(request, path: pathPrefix + request.urlSuffix, status: error.httpStatus)
            if observing {
                var fields = EventFields(
                    isCallEnd: false, operation: event, path: path, attempt: attempt, httpStatus: error.httpStatus,
                    status: error.status, outcome: error.outcome)
                fields.retry = retrying
                fields.retryDelayMilliseconds = delay
                fields.requestID = error.requestID
                fields.message = error.message
                fields.record(measure)
                eventHooks.deliver(fields)
            }
            if retrying {
                RetryPolicy.sleep(milliseconds: delay)
                continue
            }
            error.attempts = attempt
            if timed { error.totalTimeMicroseconds = callTime }
            if observing {
                report(callEndOf: error, operation: event, path: path, attempts: attempt, bytes: (sent, received),
                       total: error.totalTimeMicroseconds)
            }
            return .failure(error)
        }
    }

    /// " (GET /v1/payments/t123: 404 Not Found)": the request an error is
    /// about, so that a wrong path in base_url shows; for 401 and 403 also
    /// which credentials were sent, as hints (`sk_test_…abcd`), never keys.
    private func describing(_ request: HTTPRequest, path: String, status: Int?) -> String {
        var text = " (\(request.method.rawValue) \(path)"
        if let status {
            text += ": \(status)"
            if let reason = ResponseInterpreter.reasonPhrase(status) { text += " \(reason)" }
            if status == 401 || status == 403 { text += "; " + credentialsSent(by: request) }
        }
        return text + ")"
    }

    private func credentialsSent(by request: HTTPRequest) -> String {
        let secret = configuration.secretKey.map { "secret key \($0.hint)" }
        switch request.method {
        case .post:
            // A create names the public key in its URL, and the secret key
            // (when there is one) in its Authorization header.
            let publicKey = "sent public key \(configuration.publicKey.hint)"
            return secret.map { publicKey + " and " + $0 } ?? publicKey + "; no secret key configured"
        case .get:
            return secret.map { "sent " + $0 } ?? "no secret key configured: a view needs one"
        }
    }

    static func error(for failure: TransportFailure, call: CallKind) -> KaskoError {
        KaskoError(
            verdict: OutcomeRules.verdict(failure.evidence, for: call), message: failure.message,
            httpStatus: failure.httpStatus, statusText: failure.httpStatus.flatMap(ResponseInterpreter.reasonPhrase),
            requestID: failure.requestID)
    }
}
