/// One asynchronous call, from its submission to its one completion. Made
/// on the submitting thread; from then on touched only by the engine's.
final class AsyncCall {
    enum Start {
        case prepared(PreparedCall, CallOptions?)
        /// Refused before any I/O; still completed on the engine's thread.
        case refused(KaskoError, EventOperation)
    }

    let id: UInt64
    let client: KaskoClient
    let start: Start
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
        id: UInt64, client: KaskoClient, start: Start, deliver: @escaping (PaymentJSON) -> Void,
        finish: @escaping (Result<Void, KaskoError>) -> Void
    ) {
        self.id = id
        self.client = client
        self.start = start
        self.deliver = deliver
        self.finish = finish
    }
}
