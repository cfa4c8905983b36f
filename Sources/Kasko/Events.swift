import CCurl
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The operation a call event is about: its name, method and route template
/// (bounded cardinality, for metrics).
public enum EventOperation: Sendable, CaseIterable {
    case paymentCreate
    case paymentGet
    case quoteCreate
    case offerCreate
    case offerGet
    case policyGet

    public var name: String {
        switch self {
        case .paymentCreate: return "payment_create"
        case .paymentGet: return "payment_get"
        case .quoteCreate: return "quote_create"
        case .offerCreate: return "offer_create"
        case .offerGet: return "offer_get"
        case .policyGet: return "policy_get"
        }
    }

    public var method: String {
        switch self {
        case .paymentCreate, .quoteCreate, .offerCreate: return "POST"
        case .paymentGet, .offerGet, .policyGet: return "GET"
        }
    }

    public var route: String {
        switch self {
        case .paymentCreate: return "/payments"
        case .paymentGet: return "/payments/{id}"
        case .quoteCreate: return "/quotes"
        case .offerCreate: return "/policies"
        case .offerGet: return "/offers/{id}"
        case .policyGet: return "/policies/{id}"
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
    /// The event object's UTF-8 text.
    public let jsonBytes: [UInt8]
    public var json: String { String(decoding: jsonBytes, as: UTF8.self) }
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
        var object = JSONObjectBytes(capacity: 512)
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
        object.add("bytes_sent", int: bytesSent)
        object.add("bytes_received", int: bytesReceived)
        object.add("dns_us", int: timings?.dnsMicroseconds)
        object.add("connect_us", int: timings?.connectMicroseconds)
        object.add("tls_us", int: timings?.tlsMicroseconds)
        object.add("first_byte_us", int: timings?.firstByteMicroseconds)
        object.add("total_us", int: totalMicroseconds)
        object.add("message", string: message)
        return ClientEvent(
            jsonBytes: object.finish(), status: status, outcome: outcome, httpStatus: httpStatus,
            attempt: attempt, message: message, requestID: requestID)
    }
}

/// A client's event hook: at most one, replaced or cleared at any time.
///
/// The synchronisation is the C slot's (`ccurl_hook_slot`, event_hook.c): a
/// mutex, a condition variable and a count of the deliveries running, by
/// epoch. Many threads deliver at once; `set` swaps the hook at once and
/// waits only for the deliveries to the previous one that had begun, so once
/// it returns the previous hook is not running and will not be called again
/// (in this process). The slot's thread-local state makes calls from inside
/// a hook deliver nothing and refuses `set` there: a hook never waits for
/// itself. Without a hook, a call costs one C call reading a flag and a
/// thread-local (`observing`).
///
/// fork(): the child keeps the hook; a fork handler of the slot forgets
/// every delivery but the forking thread's own, so a child never waits for a
/// thread it does not have (see event_hook.c).
public final class EventHooks: @unchecked Sendable {
    public typealias Hook = (ClientEvent) -> Void

    /// What the slot holds: a +1 `Unmanaged<Box>`.
    private final class Box {
        let hook: Hook
        init(_ hook: @escaping Hook) { self.hook = hook }
    }

    /// nil only when memory ran out making it: then nothing is ever set.
    private let slot: OpaquePointer?

    public init() {
        slot = ccurl_hook_slot_new()
    }

    deinit {
        if let previous = ccurl_hook_slot_free(slot) {
            Unmanaged<Box>.fromOpaque(previous).release()
        }
    }

    /// Whether this thread's call should report events: a hook is set, and
    /// the thread is not inside one.
    var observing: Bool {
        ccurl_hook_slot_observing(slot) != 0
    }

    /// Whether the calling thread is inside a hook (of any client).
    public static var insideHook: Bool { ccurl_event_hook_depth() > 0 }

    /// Sets (or, with nil, clears) the hook. Returns false, changing
    /// nothing, when called from inside a hook.
    public func set(_ newHook: Hook?) -> Bool {
        guard let slot, !EventHooks.insideHook else { return false }
        let raw = newHook.map { Unmanaged.passRetained(Box($0)).toOpaque() }
        var previous: UnsafeMutableRawPointer? = nil
        guard ccurl_hook_slot_set(slot, raw, &previous) == 0 else {
            if let raw { Unmanaged<Box>.fromOpaque(raw).release() }
            return false
        }
        // Released outside the lock: a hook's captures are the caller's.
        if let previous { Unmanaged<Box>.fromOpaque(previous).release() }
        return true
    }

    /// The event is written only once a hook is known to be there: one
    /// cleared since the call began costs nothing more.
    func deliver(_ fields: EventFields) {
        guard let raw = ccurl_hook_slot_begin(slot) else { return }
        defer { ccurl_hook_slot_end(slot) }
        Unmanaged<Box>.fromOpaque(raw).takeUnretainedValue().hook(fields.event)
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
