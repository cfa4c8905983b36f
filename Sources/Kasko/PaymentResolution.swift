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

extension KaskoClient {
    /// Finds out what became of a create of `request` whose outcome was
    /// unknown (see `PaymentResolution` above for the steps). The answer is
    /// delivered as a `PaymentJSON` whose bytes are the resolution's JSON and
    /// whose HTTP status, request id and attempts are the last call's (the
    /// attempts and time, of both calls together).
    public func resolvePayment(
        _ request: PaymentRequest, options: CallOptions?, deliver: (PaymentJSON) -> Void
    ) -> Result<Void, KaskoError> {
        var attempts = 0
        var time: Int64 = 0
        func finish(_ resolution: PaymentResolution, from answer: (status: Int, requestID: String?)) -> Result<Void, KaskoError> {
            var json = PaymentJSON(bytes: resolution.jsonBytes, id: .decoded(resolution.policyID))
            json.httpStatus = answer.status
            json.requestID = answer.requestID
            json.attempts = attempts
            json.totalTimeMicroseconds = time
            deliver(json)
            return .success(())
        }
        func failing(_ error: KaskoError) -> Result<Void, KaskoError> {
            var error = error
            error.attempts += attempts
            error.totalTimeMicroseconds += time
            return .failure(error)
        }

        // 1. The policy: a paid one needs nothing sent that could pay.
        var policyStatus: String?
        var policyAnswer: (status: Int, requestID: String?) = (0, nil)
        let viewed = getPolicy(id: request.policyID, options: options) { policy in
            policyStatus = (try? JSONParser.parse(policy.bytes))?["status"]?.stringValue
            policyAnswer = (policy.httpStatus, policy.requestID)
            attempts += policy.attempts
            time += policy.totalTimeMicroseconds
        }
        if case .failure(let error) = viewed { return failing(error) }
        if policyStatus == "paid" {
            return finish(PaymentResolution(
                policyID: request.policyID, state: .paid, paymentID: nil, createdByThisCall: false,
                evidence: "policy_paid", message: "policy \(request.policyID) is paid"), from: policyAnswer)
        }

        // 2. The same create again: the API's one-payment-per-policy rule
        // answers it with what the lost create did, or lets it be the first.
        var made: (status: String?, id: String, answer: (status: Int, requestID: String?))?
        let created = createPayment(request, options: options) { payment in
            made = ((try? JSONParser.parse(payment.bytes))?["status"]?.stringValue, payment.id,
                    (payment.httpStatus, payment.requestID))
            attempts += payment.attempts
            time += payment.totalTimeMicroseconds
        }
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
            return finish(PaymentResolution(
                policyID: request.policyID, state: state, paymentID: made.id, createdByThisCall: true,
                evidence: "created",
                message: "the earlier create had not paid policy \(request.policyID); this call made payment \(made.id) (status \(made.status ?? "not given"))"),
                from: made.answer)
        case .failure(let error):
            let answer = (status: error.httpStatus ?? 0, requestID: error.requestID)
            attempts += error.attempts
            time += error.totalTimeMicroseconds
            func resolved(_ state: PaymentState, _ paymentID: String?, _ evidence: String, _ message: String) -> Result<Void, KaskoError> {
                finish(PaymentResolution(
                    policyID: request.policyID, state: state, paymentID: paymentID, createdByThisCall: false,
                    evidence: evidence, message: message), from: answer)
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
}
