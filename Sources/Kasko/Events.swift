import CCurl
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The operation a call event is about: its name, method and route template
/// (bounded cardinality, for metrics).
public enum EventOperation: Sendable {
    case paymentCreate
    case paymentGet

    public var name: String {
        switch self {
        case .paymentCreate: return "payment_create"
        case .paymentGet: return "payment_get"
        }
    }

    public var method: String {
        switch self {
        case .paymentCreate: return "POST"
        case .paymentGet: return "GET"
        }
    }

    public var route: String {
        switch self {
        case .paymentCreate: return "/payments"
        case .paymentGet: return "/payments/{id}"
        }
    }
}

/// What libcurl measured of one attempt, read only when an event hook is
/// set (`HTTPRequest.measures`). Times in microseconds from the start of the
/// attempt (libcurl's `CURLINFO_*_TIME_T`); 0 for a phase that did not
/// happen (no DNS or connect on a reused connection, no TLS over http).
public struct AttemptMeasure: Sendable {
    public var dnsMicroseconds: Int64 = 0
    public var connectMicroseconds: Int64 = 0
    public var tlsMicroseconds: Int64 = 0
    public var firstByteMicroseconds: Int64 = 0
    public var totalMicroseconds: Int64 = 0
    /// Request headers and body written; response headers and body read.
    public var bytesSent: Int64 = 0
    public var bytesReceived: Int64 = 0

    public init() {}
}

/// One event of a call, as the hook receives it: its JSON object (every
/// member, already redacted) and the members the C layer's typed access
/// reads directly.
public struct ClientEvent: Sendable {
    public let json: String
    public let status: KaskoStatus
    /// nil: the attempt or call succeeded.
    public let outcome: RequestOutcome?
    public let httpStatus: Int?
    public let attempt: Int
    public let message: String?
    public let requestID: String?
}

/// The fields of an event before they are written as JSON. `timings` is
/// nil for a call's end (its times are the call's, not an attempt's).
struct EventFields {
    var isCallEnd: Bool
    var operation: EventOperation
    var path: String
    var attempt: Int
    var httpStatus: Int?
    var status: KaskoStatus
    var outcome: RequestOutcome?
    var retry = false
    var retryDelayMilliseconds: Int?
    var requestID: String?
    var bytesSent: Int64 = 0
    var bytesReceived: Int64 = 0
    var timings: AttemptMeasure?
    var totalMicroseconds: Int64 = 0
    var message: String?

    init(isCallEnd: Bool, operation: EventOperation, path: String, attempt: Int, httpStatus: Int?,
         status: KaskoStatus, outcome: RequestOutcome?) {
        self.isCallEnd = isCallEnd
        self.operation = operation
        self.path = path
        self.attempt = attempt
        self.httpStatus = httpStatus
        self.status = status
        self.outcome = outcome
    }

    /// An attempt's timings and sizes, as measured (none: all 0).
    mutating func record(_ measure: AttemptMeasure?) {
        let measured = measure ?? AttemptMeasure()
        timings = measured
        bytesSent = measured.bytesSent
        bytesReceived = measured.bytesReceived
        totalMicroseconds = measured.totalMicroseconds
    }

    var event: ClientEvent {
        var object = JSONObjectWriter()
        object.add("event", string: isCallEnd ? "call_end" : "attempt")
        object.add("operation", string: operation.name)
        object.add("method", string: operation.method)
        object.add("route", string: operation.route)
        object.add("path", string: path)
        object.add("attempt", int: attempt)
        object.add("http_status", int: httpStatus)
        object.add("status", string: status.name)
        object.add("outcome", string: outcome?.rawValue ?? "succeeded")
        object.add("retry", bool: retry)
        object.add("retry_delay_ms", int: retry ? retryDelayMilliseconds : nil)
        object.add("request_id", string: requestID)
        object.add("bytes_sent", int: Int(clamping: bytesSent))
        object.add("bytes_received", int: Int(clamping: bytesReceived))
        object.add("dns_us", int: timings.map { Int(clamping: $0.dnsMicroseconds) })
        object.add("connect_us", int: timings.map { Int(clamping: $0.connectMicroseconds) })
        object.add("tls_us", int: timings.map { Int(clamping: $0.tlsMicroseconds) })
        object.add("first_byte_us", int: timings.map { Int(clamping: $0.firstByteMicroseconds) })
        object.add("total_us", int: Int(clamping: totalMicroseconds))
        object.add("message", string: message)
        return ClientEvent(
            json: object.text, status: status, outcome: outcome, httpStatus: httpStatus, attempt: attempt,
            message: message, requestID: requestID)
    }
}

/// A client's event hook: at most one, replaced or cleared at any time.
///
/// Events are delivered under the read lock of a pthread rwlock, so many
/// threads deliver at once; `set` takes the write lock, so once it returns
/// the previous hook is not running and will not be called again. A
/// thread-local depth (`ccurl_event_hook_depth`) makes calls from inside a
/// hook deliver nothing and refuses `set` there: a hook never takes the lock
/// again on a thread that holds it. Without a hook, a call costs one relaxed
/// atomic load (`observing`).
public final class EventHooks: @unchecked Sendable {
    public typealias Hook = (ClientEvent) -> Void

    private let isSet = Atomic<Bool>(false)
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>
    private var hook: Hook?

    public init() {
        lock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)
        lock.initialize(to: pthread_rwlock_t())
        pthread_rwlock_init(lock, nil)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    /// Whether this thread's call should report events: a hook is set, and
    /// the thread is not inside one.
    var observing: Bool {
        isSet.load(ordering: .relaxed) && ccurl_event_hook_depth() == 0
    }

    /// Whether the calling thread is inside a hook (of any client).
    public static var insideHook: Bool { ccurl_event_hook_depth() > 0 }

    /// Sets (or, with nil, clears) the hook. Returns false, changing
    /// nothing, when called from inside a hook.
    public func set(_ newHook: Hook?) -> Bool {
        guard !EventHooks.insideHook else { return false }
        guard pthread_rwlock_wrlock(lock) == 0 else { return false }
        let previous = hook
        hook = newHook
        isSet.store(newHook != nil, ordering: .relaxed)
        pthread_rwlock_unlock(lock)
        // Released outside the lock: a hook's captures are the caller's.
        _ = previous
        return true
    }

    func deliver(_ fields: EventFields) {
        let event = fields.event
        guard pthread_rwlock_rdlock(lock) == 0 else { return }
        defer { pthread_rwlock_unlock(lock) }
        guard let hook else { return }
        ccurl_event_hook_enter()
        defer { ccurl_event_hook_leave() }
        hook(event)
    }
}

/// Microseconds on the monotonic clock, for a call's wall time.
enum MonotonicClock {
    static func microseconds() -> Int64 {
        var now = timespec()
        guard clock_gettime(CLOCK_MONOTONIC, &now) == 0 else { return 0 }
        return Int64(now.tv_sec) &* 1_000_000 &+ Int64(now.tv_nsec) / 1_000
    }
}
