/// One asynchronous call, from its submission to its one completion. Made
/// on the submitting thread; from then on touched only by the engine's.
final class AsyncCall {
    let id: UInt64
    let client: KaskoClient
    /// What the call runs, or (nil) that it was refused before any I/O.
    /// Kept as plain optionals, not a multi-payload enum: valgrind saw the
    /// outlined copies of such an enum branch on its padding bytes.
    let prepared: PreparedCall?
    let options: CallOptions?
    /// The refusal, completed on the engine's thread like any end.
    let refusal: KaskoError?
    let event: EventOperation
    /// Where the answer goes (one object per call, not two closures: the
    /// engine makes thousands of calls a second).
    let completion: CallCompletion
    /// Set once the call has started (its options accepted).
    var run: CallRun?
    /// The transfer carrying the current attempt, if one is in flight.
    var handle: EasyHandle?
    /// When the next attempt is due (monotonic ms), while waiting to retry.
    var retryAt: Int64?

    init(
        id: UInt64, client: KaskoClient, plan: PlannedCall, options: CallOptions?,
        completion: CallCompletion
    ) {
        self.id = id
        self.client = client
        event = plan.event
        switch plan.prepared {
        case .success(let ready):
            prepared = ready
            self.options = options
            refusal = nil
        case .failure(let error):
            prepared = nil
            self.options = nil
            refusal = error
        }
        self.completion = completion
    }
}

/// What an asynchronous call hands its answer to, on the engine's thread.
public protocol CallCompletion: AnyObject {
    /// A success, while its bytes are still the transfer buffer (the C API
    /// copies them into its result here); `finish(.success)` follows.
    func deliver(_ payment: PaymentJSON)
    /// The call's end, exactly once.
    func finish(_ result: Result<Void, KaskoError>)
}

/// A completion made of two closures, for callers that chain calls (a
/// resolution's steps).
final class ClosureCompletion: CallCompletion {
    private let onDeliver: (PaymentJSON) -> Void
    private let onFinish: (Result<Void, KaskoError>) -> Void

    init(deliver: @escaping (PaymentJSON) -> Void, finish: @escaping (Result<Void, KaskoError>) -> Void) {
        onDeliver = deliver
        onFinish = finish
    }

    func deliver(_ payment: PaymentJSON) { onDeliver(payment) }
    func finish(_ result: Result<Void, KaskoError>) { onFinish(result) }
}
