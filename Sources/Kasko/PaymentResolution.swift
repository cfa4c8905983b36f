/// The way out of `outcome: unknown` for a payment create: what became of
/// it, found out from documented answers only, never by making a second
/// payment.
///
/// The API keeps at most one live payment per policy: a create on a policy
/// with a pending payment is refused with 422 naming that payment, and on a
/// paid policy with 400 "… is already paid." (the payment reference). So the
/// identical create, sent again, either meets one of those refusals, which
/// say what the first create did, or is itself the first payment (the lost
/// one never reached the point of paying). It cannot make a second.
///
/// Steps: (1) `GET /policies/{id}`: "paid" answers at once, without sending
/// anything that could pay. (2) Otherwise the same create again, sent at
/// most once like any create:
/// - 422 → pending, with the payment's id from the message;
/// - 400 "already paid" → paid (the policy view lags: policy creation is
///   asynchronous);
/// - 200 → the lost create had not paid; this one did: its payment's
///   status says paid ("ok"), pending, or not paid ("failed");
/// - any other 400 or 404 → not paid: no payment exists, and the request
///   as it stands is refused (the message says why);
/// - anything else (401/403, 429, 5xx, no answer) → the call fails with that
///   error, and the state is still unknown: resolve again later.
public enum PaymentState: String, Sendable {
    case paid
    case pending
    case notPaid = "not_paid"
}

/// What `resolvePayment` found, and how it knows.
public struct PaymentResolution: Sendable {
    public let policyID: String
    public let state: PaymentState
    /// The payment's id, when an answer named it (a pending payment, or the
    /// payment this call made).
    public let paymentID: String?
    /// This call made the payment (step 2 answered 200).
    public let createdByThisCall: Bool
    /// Which answer decided: "policy_paid", "already_paid",
    /// "pending_payment", "created" or "create_refused".
    public let evidence: String
    public let message: String

    /// The JSON a C caller reads (object "payment_resolution").
    public var jsonBytes: [UInt8] {
        var object = JSONObjectBytes(capacity: 256 + message.utf8.count)
        object.add("object", string: "payment_resolution")
        object.add("policy_id", string: policyID)
        object.add("state", string: state.rawValue)
        object.add("payment_id", string: paymentID)
        object.add("created_by_this_call", bool: createdByThisCall)
        object.add("evidence", string: evidence)
        object.add("message", string: message)
        return object.finish()
    }
}

/// The resolution's two steps as decisions, shared by the blocking call and
/// the asynchronous one: each takes a step's answer and says what it means.
/// Attempts and time add up over both steps.
struct ResolutionSteps {
    let request: PaymentRequest
    var attempts = 0
    var time: Int64 = 0
    /// The last answer's HTTP status and request id, which the result carries.
    var answer: (status: Int, requestID: String?) = (0, nil)
    /// Step 1's finding: the policy's status.
    var policyStatus: String?
    /// Step 2's success: the payment made.
    var made: (status: String?, id: String)?

    init(_ request: PaymentRequest) {
        self.request = request
    }

    /// Step 1's delivered policy.
    mutating func noteView(_ policy: PaymentJSON) {
        policyStatus = (try? JSONParser.parse(policy.bytes))?["status"]?.stringValue
        answer = (policy.httpStatus, policy.requestID)
        attempts += policy.attempts
        time += policy.totalTimeMicroseconds
    }

    /// Step 1's end: the answer, if the policy is paid; nil: go on to step 2.
    func afterView() -> PaymentResolution? {
        guard policyStatus == "paid" else { return nil }
        return PaymentResolution(
            policyID: request.policyID, state: .paid, paymentID: nil, createdByThisCall: false,
            evidence: "policy_paid", message: "policy \(request.policyID) is paid")
    }

    /// Step 2's delivered payment.
    mutating func noteCreate(_ payment: PaymentJSON) {
        made = ((try? JSONParser.parse(payment.bytes))?["status"]?.stringValue, payment.id)
        answer = (payment.httpStatus, payment.requestID)
        attempts += payment.attempts
        time += payment.totalTimeMicroseconds
    }

    /// A failed step: its error with the attempts and time of both.
    func failing(_ error: KaskoError) -> KaskoError {
        var error = error
        error.attempts += attempts
        error.totalTimeMicroseconds += time
        return error
    }

    /// Step 2's end: what the create's answer says became of the lost one.
    mutating func afterCreate(_ created: Result<Void, KaskoError>) -> Result<PaymentResolution, KaskoError> {
        switch created {
        case .success:
            guard let made else { return .failure(.internal("a successful create delivered no payment")) }
            let state: PaymentState
            switch made.status {
            case "ok": state = .paid
            case "failed": state = .notPaid
            // "pending", or a status this library does not know: a payment
            // exists and is not known to be settled.
            default: state = .pending
            }
            return .success(PaymentResolution(
                policyID: request.policyID, state: state, paymentID: made.id, createdByThisCall: true,
                evidence: "created",
                message: "the earlier create had not paid policy \(request.policyID); this call made payment \(made.id) (status \(made.status ?? "not given"))"))
        case .failure(let error):
            answer = (status: error.httpStatus ?? 0, requestID: error.requestID)
            attempts += error.attempts
            time += error.totalTimeMicroseconds
            func resolved(_ state: PaymentState, _ paymentID: String?, _ evidence: String, _ message: String) -> Result<PaymentResolution, KaskoError> {
                .success(PaymentResolution(
                    policyID: request.policyID, state: state, paymentID: paymentID, createdByThisCall: false,
                    evidence: evidence, message: message))
            }
            switch (error.status, error.httpStatus) {
            case (.pendingPayment, _):
                return resolved(.pending, error.pendingPaymentID, "pending_payment",
                                "policy \(request.policyID) has a pending payment" + (error.pendingPaymentID.map { " (\($0))" } ?? ""))
            case (.badRequest, _) where error.message.contains("already paid"):
                return resolved(.paid, nil, "already_paid", "policy \(request.policyID) is already paid")
            case (.badRequest, _), (.notFound, 404?):
                return resolved(.notPaid, nil, "create_refused",
                                "no payment exists on policy \(request.policyID), and the create is refused as it stands: " + error.message)
            default:
                var failed = error
                failed.attempts = attempts
                failed.totalTimeMicroseconds = time
                return .failure(failed)
            }
        }
    }

    /// The resolution as the payment-shaped answer a C caller reads.
    func answerJSON(_ resolution: PaymentResolution) -> PaymentJSON {
        var json = PaymentJSON(bytes: resolution.jsonBytes, id: .decoded(resolution.policyID))
        json.httpStatus = answer.status
        json.requestID = answer.requestID
        json.attempts = attempts
        json.totalTimeMicroseconds = time
        return json
    }
}

extension KaskoClient {
    /// Finds out what became of a create of `request` whose outcome was
    /// unknown (see `PaymentResolution` above for the steps). The answer is
    /// delivered as a `PaymentJSON` whose bytes are the resolution's JSON and
    /// whose HTTP status, request id and attempts are the last call's (the
    /// attempts and time, of both calls together).
    public func resolvePayment(
        _ request: PaymentRequest, options: CallOptions?, deliver: (PaymentJSON) -> Void
    ) -> Result<Void, KaskoError> {
        var steps = ResolutionSteps(request)
        // 1. The policy: a paid one needs nothing sent that could pay.
        if case .failure(let error) = getPolicy(id: request.policyID, options: options, deliver: { steps.noteView($0) }) {
            return .failure(steps.failing(error))
        }
        if let paid = steps.afterView() {
            deliver(steps.answerJSON(paid))
            return .success(())
        }
        // 2. The same create again: the API's one-payment-per-policy rule
        // answers it with what the lost create did, or lets it be the first.
        let created = createPayment(request, options: options) { steps.noteCreate($0) }
        return steps.afterCreate(created).map { deliver(steps.answerJSON($0)) }
    }

    /// `resolvePayment` on the engine: the policy view, then (unless it is
    /// paid) the create, each an asynchronous call under the one id the
    /// caller holds, so that `cancelCall(id)` ends whichever step is in
    /// flight. `finish` is called once, after `deliver` on success.
    public func submitResolve(
        _ request: PaymentRequest, options: CallOptions?, completion: CallCompletion
    ) -> Result<UInt64, KaskoError> {
        let deliver = completion.deliver
        let finish = completion.finish
        let progress = ResolutionProgress(request)
        return submit(planPolicyGet(id: request.policyID), options: options, accepted: { progress.id = $0 },
                      deliver: { progress.steps.noteView($0) }, finish: { viewed in
            if case .failure(let error) = viewed { return finish(.failure(progress.steps.failing(error))) }
            if let paid = progress.steps.afterView() {
                deliver(progress.steps.answerJSON(paid))
                return finish(.success(()))
            }
            let second = self.submit(
                self.planPaymentCreate(request), options: options, reusing: progress.id,
                deliver: { progress.steps.noteCreate($0) },
                finish: { created in
                    finish(progress.steps.afterCreate(created).map { deliver(progress.steps.answerJSON($0)) })
                })
            // The client is being freed between the steps: the call ends
            // cancelled, nothing of step 2 sent.
            if case .failure(let error) = second { finish(.failure(progress.steps.failing(error))) }
        })
    }
}

/// An asynchronous resolution's state between its steps (engine thread
/// only, once submitted).
private final class ResolutionProgress {
    var steps: ResolutionSteps
    var id: UInt64 = 0

    init(_ request: PaymentRequest) {
        steps = ResolutionSteps(request)
    }
}
