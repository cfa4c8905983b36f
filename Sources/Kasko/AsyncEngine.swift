import CCurl
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs a client's asynchronous calls on one thread of its own, over
/// libcurl multi handles (`ccurl_multi_loop`: epoll and
/// curl_multi_socket_action; one multi handle over TLS, several over plain
/// HTTP/1.1). Every libcurl handle of the engine is touched
/// by that thread only; other threads hand it calls and cancellations
/// through `inbox` and wake it. Retries wait on the loop's timer, never in a
/// sleep, and each attempt's result goes through the same `CallRun` as a
/// blocking call's: the same rules, the same outcome truth, the same events.
///
/// Completions (and event hooks) run on the engine's thread, one at a time.
/// The thread starts with the first call and ends when the client is freed;
/// an engine belongs to one process (`ProcessLocal`): a forked child makes
/// its own, and never runs the parent's completions.
final class AsyncEngine: @unchecked Sendable {
    /// Idle easy handles kept beyond this are freed. Each holds buffers of
    /// its own, so a burst of thousands should not stay pinned; a handle is
    /// cheap to make compared with a request.
    private static let maximumIdleHandles = 256
    /// Multi handles over plain HTTP/1.1, each walking its own connections.
    private static let http1Shards: UInt32 = 16

    private enum ThreadState {
        case notStarted
        case running
        /// Ended, and joined or detached: nothing more to wait for.
        case gone
    }

    private let settings: TransportSettings
    private let headers: RequestHeaders
    private let multiplex: Bool
    private let gate = EngineForkGate()
    private let loop: OpaquePointer

    // Shared with the submitting threads, under `lock`.
    private let lock = Lock()
    private var inbox: [AsyncCall] = []
    private var cancellations: [UInt64] = []
    private var stopping = false
    private var threadState = ThreadState.notStarted
    /// A thread that asked the engine to stop will join it.
    private var joining = false
    private var thread = pthread_t()

    // The engine thread's own.
    private var calls: [UInt64: AsyncCall] = [:]
    private var waitingToRetry: [AsyncCall] = []
    private var idle: [EasyHandle] = []

    init(settings: TransportSettings, headers: RequestHeaders, multiplex: Bool) throws(TransportFailure) {
        self.settings = settings
        self.headers = headers
        self.multiplex = multiplex
        let gate = self.gate
        // One shard over TLS, where HTTP/2 shares a connection among the
        // calls; over plain HTTP/1.1 several (see multi_loop.c).
        let shards: UInt32 = multiplex ? 1 : AsyncEngine.http1Shards
        guard let loop = gate.holding({ ccurl_multi_loop_new(shards) }) else {
            throw .local("could not start the engine of asynchronous calls (libcurl multi handle, epoll or eventfd)")
        }
        self.loop = loop
    }

    deinit {
        // The thread frees the loop when it ends; one that never started
        // leaves it to this.
        if threadState == .notStarted {
            gate.holding { ccurl_multi_loop_free(loop) }
        }
    }

    /// Queues the call `make` builds for the engine's thread, starting the
    /// thread with the first call, and returns its id, taken from `nextID`
    /// only once the call is accepted (so that a refused call uses up no
    /// id). Refused once the engine is stopping (its client being freed) or
    /// if no thread could be started; then nothing is ever called.
    func submit(nextID: () -> UInt64, _ make: (UInt64) -> AsyncCall) -> Result<UInt64, KaskoError> {
        let outcome: Result<(UInt64, Bool), KaskoError> = lock.withLock {
            guard !stopping else {
                return .failure(KaskoError(status: .cancelled, message: "the client is being freed: the call was not made"))
            }
            if threadState == .notStarted {
                guard startThread() else {
                    return .failure(.internal("could not start the thread of asynchronous calls"))
                }
            }
            let id = nextID()
            inbox.append(make(id))
            // Wake it once per batch: it takes the whole inbox at a time. A
            // completion submitting from the engine's own thread needs no
            // wake: the loop looks at the inbox before it waits again.
            return .success((id, inbox.count == 1 && !onEngineThread))
        }
        switch outcome {
        case .success(let (id, wake)):
            if wake { ccurl_multi_loop_wake(loop) }
            return .success(id)
        case .failure(let error):
            return .failure(error)
        }
    }

    func cancel(_ id: UInt64) {
        let wake = lock.withLock {
            guard threadState == .running else { return false }
            cancellations.append(id)
            return cancellations.count == 1 && !onEngineThread
        }
        if wake { ccurl_multi_loop_wake(loop) }
    }

    /// Ends every call in flight (each completes, cancelled) and the thread.
    /// From another thread it returns once both are done; from the engine's
    /// own thread (a completion freeing its client) it returns at once, and
    /// the thread finishes the work after the completion returns.
    func stop() {
        let (running, mustJoin): (Bool, Bool) = lock.withLock {
            stopping = true
            guard threadState == .running else { return (false, false) }
            if pthread_equal(thread, pthread_self()) != 0 { return (true, false) }
            joining = true
            return (true, true)
        }
        // Also from the engine's own thread: its loop read `stopping` before
        // this completion ran, and must not sleep until libcurl's next timer.
        if running { ccurl_multi_loop_wake(loop) }
        guard mustJoin else { return }
        pthread_join(thread, nil)
        lock.withLock { threadState = .gone }
    }

    /// Under `lock`: whether this is the engine's thread (a completion).
    private var onEngineThread: Bool {
        threadState == .running && pthread_equal(thread, pthread_self()) != 0
    }

    /// Under `lock`.
    private func startThread() -> Bool {
        let retained = Unmanaged.passRetained(self).toOpaque()
        var made = pthread_t()
        let result = pthread_create(&made, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<AsyncEngine>.fromOpaque(raw).takeRetainedValue().run()
            return nil
        }, retained)
        guard result == 0 else {
            Unmanaged<AsyncEngine>.fromOpaque(retained).release()
            return false
        }
        thread = made
        threadState = .running
        return true
    }

    // MARK: The engine's thread

    private func run() {
        while true {
            // Calls queued by this thread's own completions go at once.
            let queued = lock.withLock { !inbox.isEmpty || !cancellations.isEmpty }
            _ = ccurl_multi_loop_run_once(loop, queued ? 0 : nextRetryWait())
            let (arrived, cancelled, stop) = lock.withLock {
                let taken = (inbox, cancellations, stopping)
                inbox.removeAll()
                cancellations.removeAll()
                return taken
            }
            for call in arrived { begin(call) }
            for id in cancelled {
                if let call = calls[id] { cancel(call, why: "cancelled by kasko_call_cancel()") }
            }
            collectFinishedTransfers()
            // A completion may have freed the client meanwhile: then no
            // retry begins, and the calls end now.
            if stop || lock.withLock({ stopping }) { break }
            startDueRetries()
        }
        shutDown()
    }

    /// Everything still in flight ends cancelled, including calls queued
    /// since the last turn; then the libcurl state goes.
    private func shutDown() {
        while true {
            let late = lock.withLock {
                let taken = inbox
                inbox.removeAll()
                return taken
            }
            for call in late { begin(call) }
            guard let call = calls.values.first else { break }
            cancel(call, why: "the client was freed while the call was in flight")
        }
        let detach: Bool = lock.withLock {
            if joining { return false }
            threadState = .gone
            return true
        }
        gate.holding {
            idle.removeAll()
            ccurl_multi_loop_free(loop)
        }
        if detach { pthread_detach(pthread_self()) }
    }

    /// A new call: its options checked (a refusal completes it at once, on
    /// this thread), then its first attempt.
    private func begin(_ call: AsyncCall) {
        guard let prepared = call.prepared else {
            let error = call.refusal ?? .internal("a call with nothing to run")
            gate.opened { call.completion.finish(.failure(call.client.refused(error, operation: call.event))) }
            return
        }
        switch gate.opened({ call.client.startRun(prepared, options: call.options) }) {
        case .failure(let problem):
            gate.opened { call.completion.finish(.failure(problem)) }
        case .success(let run):
            call.run = run
            calls[call.id] = call
            attempt(call)
        }
    }

    private func attempt(_ call: AsyncCall) {
        guard var run = call.run else { return }
        run.attempt += 1
        call.run = run
        let handle: EasyHandle
        if let reused = idle.popLast() {
            handle = reused
        } else {
            do throws(TransportFailure) {
                handle = try EasyHandle(settings: settings, share: nil, engineGate: gate)
                if multiplex { _ = ccurl_easy_setopt_long(handle.handle, CURLOPT_PIPEWAIT, 1) }
                guard ccurl_multi_loop_adopt(loop, handle.handle) == CURLE_OK else {
                    throw TransportFailure(
                        evidence: .notSent(.local), curlCode: Int(CURLE_FAILED_INIT.rawValue),
                        message: "libcurl refused the engine's socket callbacks", httpStatus: nil, requestID: nil)
                }
            } catch {
                conclude(call, .failure(error), handle: nil)
                return
            }
        }
        let request = run.request
        let setup = handle.begin(request, headers: headers.list(for: request))
        guard setup == CURLE_OK else {
            conclude(call, handle.finish(request, code: setup), handle: handle)
            return
        }
        handle.asyncCall = call
        call.handle = handle
        _ = ccurl_easy_set_private(handle.handle, Unmanaged.passUnretained(handle).toOpaque())
        let added = ccurl_multi_loop_add(loop, handle.handle, &handle.shard)
        guard added == CURLM_OK else {
            handle.asyncCall = nil
            call.handle = nil
            conclude(call, handle.finish(request, code: CURLE_FAILED_INIT), handle: handle)
            return
        }
    }

    private func collectFinishedTransfers() {
        var code = CURLE_OK
        while let easy = ccurl_multi_loop_next_done(loop, &code) {
            guard let raw = ccurl_easy_get_private(easy) else { continue }
            let handle = Unmanaged<EasyHandle>.fromOpaque(raw).takeUnretainedValue()
            // Removing may close the connection (TLS state): in the gate.
            gate.holding { _ = ccurl_multi_loop_remove(loop, easy, handle.shard) }
            guard let call = handle.asyncCall, let request = call.run?.request else { continue }
            handle.asyncCall = nil
            call.handle = nil
            conclude(call, handle.finish(request, code: code), handle: handle)
        }
    }

    /// An attempt's end, judged by `CallRun` like a blocking call's: the
    /// call completes, or waits for its next attempt on the loop's timer.
    private func conclude(_ call: AsyncCall, _ result: Result<HTTPResponse, TransportFailure>, handle: EasyHandle?) {
        guard var run = call.run else { return }
        let client = call.client
        let end = gate.opened { client.consume(result, run: &run, deliver: call.completion.deliver) }
        // Its buffer is free again once the answer is consumed.
        if let handle { recycle(handle) }
        let step = gate.opened { client.conclude(end, run: &run) }
        call.run = run
        switch step {
        case .finished(let result):
            complete(call, result)
        case .retry(let delay):
            call.retryAt = MonotonicClock.microseconds() / 1000 + Int64(delay)
            waitingToRetry.append(call)
        }
    }

    private func cancel(_ call: AsyncCall, why: String) {
        guard var run = call.run else { return }
        if let handle = call.handle {
            let written = handle.requestMayHaveBeenWritten
            gate.holding { _ = ccurl_multi_loop_remove(loop, handle.handle, handle.shard) }
            _ = handle.finish(run.request, code: CURLE_ABORTED_BY_CALLBACK)
            handle.asyncCall = nil
            call.handle = nil
            if written { run.mayHaveBeenSent = true }
            recycle(handle)
        } else if call.retryAt != nil {
            waitingToRetry.removeAll { $0 === call }
            call.retryAt = nil
        }
        let client = call.client
        let error = gate.opened { client.cancelled(&run, why: why) }
        call.run = run
        complete(call, .failure(error))
    }

    private func complete(_ call: AsyncCall, _ result: Result<Void, KaskoError>) {
        calls[call.id] = nil
        gate.opened { call.completion.finish(result) }
    }

    /// Keeps `handle` for a later attempt, or lets it go (freed in the gate).
    private func recycle(_ handle: EasyHandle) {
        if idle.count < AsyncEngine.maximumIdleHandles { idle.append(handle) }
    }

    /// Milliseconds until the first retry is due, or -1 without one.
    private func nextRetryWait() -> Int {
        guard let first = waitingToRetry.lazy.compactMap({ $0.retryAt }).min() else { return -1 }
        return Int(max(0, first - MonotonicClock.microseconds() / 1000))
    }

    private func startDueRetries() {
        guard !waitingToRetry.isEmpty else { return }
        let now = MonotonicClock.microseconds() / 1000
        let due = waitingToRetry.filter { ($0.retryAt ?? 0) <= now }
        guard !due.isEmpty else { return }
        waitingToRetry.removeAll { ($0.retryAt ?? 0) <= now }
        for call in due {
            call.retryAt = nil
            attempt(call)
        }
    }
}
