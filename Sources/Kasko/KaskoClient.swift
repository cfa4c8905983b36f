import Synchronization

/// A client of the KASKO Payments API. Immutable after creation and safe to
/// use from many threads at once; calls block until they have an answer.
public final class KaskoClient: Sendable {
    public let configuration: Configuration
    let transport: Transport
    let retryPolicy: RetryPolicy
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
    /// The last id given to an asynchronous call. The client's, not an
    /// engine's: a forked child goes on from its parent's ids, so that an id
    /// of the parent's never names a call of the child's.
    private let lastCallID = Atomic<UInt64>(0)

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

    deinit {
        stopAsynchronousCalls()
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
        execute(planPaymentCreate(request), options: options, deliver: deliver)
    }

    /// `POST /payments`, checked and ready to run.
    public func planPaymentCreate(_ request: PaymentRequest) -> PlannedCall {
        PlannedCall(PreparedCall(
            request: HTTPRequest(method: .post, urlPrefix: createURL, body: request.body), pathPrefix: createPath,
            event: .paymentCreate, operation: .createPayment(policyID: request.policyID), callSecrets: [request.token]))
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
        execute(planPaymentGet(id: id), options: options, deliver: deliver)
    }

    /// `GET /payments/{id}`, its id checked before it goes into the path.
    public func planPaymentGet(id: String) -> PlannedCall {
        let paymentID: PaymentID
        do {
            paymentID = try PaymentID(id)
        } catch {
            return PlannedCall(refused: error, event: .paymentGet)
        }
        return PlannedCall(PreparedCall(
            request: HTTPRequest(method: .get, urlPrefix: paymentsURLPrefix, urlSuffix: paymentID.value, body: []),
            pathPrefix: paymentsPathPrefix, event: .paymentGet, operation: .getPayment(id: paymentID.value),
            callSecrets: []))
    }

    /// Starts `plan` on the engine's thread and returns its id at once.
    /// `finish` is then called exactly once, on that thread, never inside
    /// this call; `deliver` before it on success, with the answer's bytes
    /// valid only inside it. A plan refused before any I/O is still handed
    /// to `finish` on the engine's thread. Fails (and nothing is called)
    /// only when the engine cannot take calls: it could not start, or the
    /// client is being freed.
    ///
    /// `reusing`: the id of the call this one continues (a resolution's
    /// second step), instead of a new one. `accepted` learns the id before
    /// the engine can run anything of the call.
    public func submit(
        _ plan: PlannedCall, options: CallOptions?, reusing: UInt64? = nil, accepted: ((UInt64) -> Void)? = nil,
        completion: CallCompletion
    ) -> Result<UInt64, KaskoError> {
        let engine: AsyncEngine
        switch transport.engines.value() {
        case .success(let made): engine = made
        case .failure(let failure): return .failure(.internal(failure.message))
        }
        return engine.submit(nextID: { reusing ?? lastCallID.add(1, ordering: .relaxed).newValue }) { id in
            accepted?(id)
            return AsyncCall(id: id, client: self, plan: plan, options: options, completion: completion)
        }
    }

    /// `submit` with the completion as two closures.
    public func submit(
        _ plan: PlannedCall, options: CallOptions?, reusing: UInt64? = nil, accepted: ((UInt64) -> Void)? = nil,
        deliver: @escaping (PaymentJSON) -> Void, finish: @escaping (Result<Void, KaskoError>) -> Void
    ) -> Result<UInt64, KaskoError> {
        submit(plan, options: options, reusing: reusing, accepted: accepted,
               completion: ClosureCompletion(deliver: deliver, finish: finish))
    }

    /// Asks the engine to end call `id` cancelled, if it is still in
    /// flight. False for an id this client never gave.
    public func cancelCall(_ id: UInt64) -> Bool {
        guard id != 0, id <= lastCallID.load(ordering: .relaxed) else { return false }
        transport.engines.existing?.cancel(id)
        return true
    }

    /// Ends this process's asynchronous calls in flight, each cancelled,
    /// and the engine's thread (see `AsyncEngine.stop`).
    public func stopAsynchronousCalls() {
        transport.engines.existing?.stop()
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

    func report(
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

    /// Runs a planned call on this thread: attempts until success or until
    /// `OutcomeRules` and `max_retries` say stop (`CallRun` decides),
    /// sleeping between them. Options holding a refused value fail the call
    /// before any I/O.
    func execute(_ plan: PlannedCall, options: CallOptions?, deliver: (PaymentJSON) -> Void) -> Result<Void, KaskoError> {
        let prepared: PreparedCall
        switch plan.prepared {
        case .success(let ready): prepared = ready
        case .failure(let error): return .failure(refused(error, operation: plan.event))
        }
        var run: CallRun
        switch startRun(prepared, options: options) {
        case .success(let started): run = started
        case .failure(let problem): return .failure(problem)
        }
        while true {
            run.attempt += 1
            let end = transport.send(run.request) { consume($0, run: &run, deliver: deliver) }
            switch conclude(end, run: &run) {
            case .finished(let result): return result
            case .retry(let delay): RetryPolicy.sleep(milliseconds: delay)
            }
        }
    }

    /// " (GET /v1/payments/t123: 404 Not Found)": the request an error is
    /// about, so that a wrong path in base_url shows; for 401 and 403 also
    /// which credentials were sent, as hints (`sk_test_…abcd`), never keys.
    func describing(_ request: HTTPRequest, path: String, status: Int?) -> String {
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
