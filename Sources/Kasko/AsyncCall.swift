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
    /// Hands a success to the caller's side while its bytes are still the
    /// transfer buffer (the C API copies them into its result here).
    let deliver: (PaymentJSON) -> Void
    /// Called exactly once, with the call's end.
    let finish: (Result<Void, KaskoError>) -> Void
    /// Set once the call has started (its options accepted).
    var run: CallRun?
    /// The transfer carrying the current attempt, if one is in flight.
    var handle: EasyHandle?
    /// When the next attempt is due (monotonic ms), while waiting to retry.
    var retryAt: Int64?

    init(
        id: UInt64, client: KaskoClient, plan: PlannedCall, options: CallOptions?,
        deliver: @escaping (PaymentJSON) -> Void, finish: @escaping (Result<Void, KaskoError>) -> Void
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
        self.deliver = deliver
        self.finish = finish
    }
}
