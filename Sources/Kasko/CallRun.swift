/// A call checked and ready to go out: what `execute` runs on the calling
/// thread and `AsyncEngine` on its own.
struct PreparedCall {
    var request: HTTPRequest
    /// The path errors and events name it by (no query: it holds the public key).
    let pathPrefix: String
    let event: EventOperation
    let operation: Operation
    /// Redacted from errors together with the client's keys (a payment token).
    let callSecrets: [String]
}

/// A call as its checks left it: ready, or refused before any I/O (and
/// then the operation the refusal is reported as).
public struct PlannedCall {
    let event: EventOperation
    let prepared: Result<PreparedCall, KaskoError>

    init(_ prepared: PreparedCall) {
        event = prepared.event
        self.prepared = .success(prepared)
    }

    public init(refused error: KaskoError, event: EventOperation) {
        self.event = event
        prepared = .failure(error)
    }
}

/// How one attempt ended, decided while its handle was still held.
enum AttemptEnd {
    case delivered
    case failed(FailedAttempt, retryAfterSeconds: Int?)
}

/// What follows an attempt.
enum CallStep {
    case finished(Result<Void, KaskoError>)
    /// Another attempt, after this long (0 means at once).
    case retry(afterMilliseconds: Int)
}

/// One call's progress over its attempts: the one place, for blocking and
/// asynchronous calls alike, where an attempt's result becomes a delivered
/// answer, a retry (by `OutcomeRules` and `RetryPolicy`) or the call's
/// error, and where the events are reported.
struct CallRun {
    var request: HTTPRequest
    let pathPrefix: String
    let event: EventOperation
    let operation: Operation
    let callSecrets: [String]
    let observing: Bool
    /// The path events name (built only when a hook is set).
    let path: String
    let timed: Bool
    let started: Int64
    var attempt = 0
    var sent: Int64 = 0
    var received: Int64 = 0
    /// Whether a byte of any attempt's request can have been written: a
    /// cancelled call is `not_sent` only without one.
    var mayHaveBeenSent = false
    // The current attempt's, set by `consume`.
    fileprivate var measure: AttemptMeasure?
    fileprivate var deliveredStatus = 0
    fileprivate var deliveredRequestID: String?
    fileprivate var callTime: Int64 = 0

    fileprivate init(_ prepared: PreparedCall, observing: Bool) {
        request = prepared.request
        pathPrefix = prepared.pathPrefix
        event = prepared.event
        operation = prepared.operation
        callSecrets = prepared.callSecrets
        self.observing = observing
        path = observing ? prepared.pathPrefix + prepared.request.urlSuffix : ""
        request.measures = observing
        // A typed result carries the call's wall time; the 1.0 calls do not
        // read the clock unless a hook is set.
        timed = observing || request.forTypedResult
        started = timed ? MonotonicClock.microseconds() : 0
    }
}

extension KaskoClient {
    /// The run of a prepared call, or its options' refusal (reported to a
    /// hook as a call end). With an event hook set (and this thread not
    /// inside one), each attempt and the call's end are reported to it;
    /// without one, the only cost is `observing`'s atomic load.
    func startRun(_ prepared: PreparedCall, options: CallOptions?) -> Result<CallRun, KaskoError> {
        var prepared = prepared
        let observing = eventHooks.observing
        if let options {
            if let problem = options.problem {
                if observing {
                    report(callEndOf: problem, operation: prepared.event, path: prepared.pathPrefix + prepared.request.urlSuffix,
                           attempts: 0, bytes: (0, 0), total: 0)
                }
                return .failure(problem)
            }
            prepared.request = prepared.request.with(options)
        }
        return .success(CallRun(prepared, observing: observing))
    }

    /// Judges one attempt's transport result while its handle is still
    /// lent: a success is delivered here (its bytes are the handle's
    /// buffer), a failure kept for `conclude`.
    func consume(
        _ result: Result<HTTPResponse, TransportFailure>, run: inout CallRun, deliver: (PaymentJSON) -> Void
    ) -> AttemptEnd {
        run.measure = nil
        run.callTime = 0
        switch result {
        case .success(let response):
            run.mayHaveBeenSent = true
            if run.observing { run.measure = response.measure }
            switch ResponseInterpreter.interpret(response, for: run.operation, indexingMembers: run.request.forTypedResult) {
            case .success(var payment):
                payment.httpStatus = response.status
                payment.attempts = run.attempt
                // Only a typed result asked for them; the 1.0 calls build no Redactor here.
                if response.requestID != nil || payment.etag != nil || payment.lastModified != nil {
                    let redactor = Redactor(configuration: configuration, callSecrets: run.callSecrets)
                    payment.requestID = response.requestID.map(redactor.requestID)
                    payment.etag = payment.etag.map(redactor.requestID)
                    payment.lastModified = payment.lastModified.map(redactor.requestID)
                }
                if run.timed {
                    run.callTime = MonotonicClock.microseconds() - run.started
                    payment.totalTimeMicroseconds = run.callTime
                }
                if run.observing {
                    run.deliveredStatus = response.status
                    run.deliveredRequestID = payment.requestID
                }
                deliver(payment)
                return .delivered
            case .failure(let failure): return .failed(failure, retryAfterSeconds: response.retryAfterSeconds)
            }
        case .failure(let failure):
            if case .notSent = failure.evidence {} else { run.mayHaveBeenSent = true }
            if run.observing { run.measure = failure.measure }
            return .failed(
                FailedAttempt(evidence: failure.evidence, error: KaskoClient.error(for: failure, call: run.operation.call)),
                retryAfterSeconds: nil)
        }
    }

    /// What follows an attempt that `consume` judged: the events, and the
    /// call's end or another attempt.
    func conclude(_ end: AttemptEnd, run: inout CallRun) -> CallStep {
        // The call's time runs to its answer: the hook's time for the
        // last attempt is not in it (for earlier ones it is, as it
        // delays the next attempt).
        if run.timed, run.callTime == 0 { run.callTime = MonotonicClock.microseconds() - run.started }
        if run.observing {
            run.sent &+= run.measure?.bytesSent ?? 0
            run.received &+= run.measure?.bytesReceived ?? 0
        }
        let failed: FailedAttempt
        let retryAfterSeconds: Int?
        switch end {
        case .delivered:
            if run.observing {
                var fields = EventFields(
                    isCallEnd: false, operation: run.event, path: run.path, attempt: run.attempt,
                    httpStatus: run.deliveredStatus, status: .ok, outcome: nil)
                fields.requestID = run.deliveredRequestID
                fields.record(run.measure)
                eventHooks.deliver(fields)
                fields.isCallEnd = true
                fields.timings = nil
                fields.bytesSent = run.sent
                fields.bytesReceived = run.received
                fields.totalMicroseconds = run.callTime
                eventHooks.deliver(fields)
            }
            return .finished(.success(()))
        case .failed(let failure, let delay):
            failed = failure
            retryAfterSeconds = delay
        }
        let verdict = OutcomeRules.verdict(failed.evidence, for: run.operation.call)
        let retrying = retryPolicy.shouldRetry(verdict, attempt: run.attempt)
        let delay = retrying ? retryPolicy.delayMilliseconds(afterAttempt: run.attempt, retryAfterSeconds: retryAfterSeconds) : 0
        if retrying && !run.observing {
            return .retry(afterMilliseconds: delay)
        }
        // Redacted and described once: for the attempt's event and, on
        // the last attempt, for the call's error.
        var error = failed.error.redacted(by: Redactor(configuration: configuration, callSecrets: run.callSecrets))
        // Added after redaction: it is ours (the path holds a checked
        // payment id, the hints no key), and a long server message must
        // not push it out.
        error.message += describing(run.request, path: run.pathPrefix + run.request.urlSuffix, status: error.httpStatus)
        if run.observing {
            var fields = EventFields(
                isCallEnd: false, operation: run.event, path: run.path, attempt: run.attempt,
                httpStatus: error.httpStatus, status: error.status, outcome: error.outcome)
            fields.retry = retrying
            fields.retryDelayMilliseconds = delay
            fields.requestID = error.requestID
            fields.message = error.message
            fields.record(run.measure)
            eventHooks.deliver(fields)
        }
        if retrying {
            return .retry(afterMilliseconds: delay)
        }
        return .finished(.failure(ended(error, run: run)))
    }

    /// The call's error with its attempts and time, reported as its end.
    private func ended(_ error: KaskoError, run: CallRun) -> KaskoError {
        var error = error
        error.attempts = run.attempt
        if run.timed { error.totalTimeMicroseconds = run.callTime }
        if run.observing {
            report(callEndOf: error, operation: run.event, path: run.path, attempts: run.attempt,
                   bytes: (run.sent, run.received), total: error.totalTimeMicroseconds)
        }
        return error
    }

    /// An asynchronous call that ended before its answer (cancelled, or its
    /// client freed): `not_sent` only when no attempt's request can have
    /// been written, else `unknown`, whatever kind of call it is.
    func cancelled(_ run: inout CallRun, why: String) -> KaskoError {
        if run.timed { run.callTime = MonotonicClock.microseconds() - run.started }
        var error = KaskoError(
            status: .cancelled, message: why, outcome: run.mayHaveBeenSent ? .unknown : .notSent)
        error.message += describing(run.request, path: run.pathPrefix + run.request.urlSuffix, status: nil)
        return ended(error, run: run)
    }
}
