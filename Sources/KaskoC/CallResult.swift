import Kasko
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// What a `kasko_result *` points at: a finished call's status, its JSON
/// text and every member of its error object, already as C strings, so
/// that the accessors only read. Immutable once made, except the caches of
/// member values, which are filled under a lock: one result may be read
/// from many threads at once. Everything it hands out lives as long as it.
final class CallResult: @unchecked Sendable {
    let status: KaskoStatus
    let outcome: KaskoCOutcome
    let httpStatus: Int32
    let attempts: Int32
    let retryable: Bool
    let json: UnsafePointer<CChar>
    let jsonLength: Int
    let message: UnsafePointer<CChar>?
    let requestID: UnsafePointer<CChar>?
    let pendingPaymentID: UnsafePointer<CChar>?
    /// A policy view's ETag and Last-Modified; NULL for every other result.
    /// Set once, by the success initialiser, before the result is handed out.
    private(set) var etag: UnsafePointer<CChar>?
    private(set) var lastModified: UnsafePointer<CChar>?
    /// The call's wall time in microseconds; 0 for results that are not a call's.
    private(set) var totalTimeMicroseconds: Int64 = 0
    /// Whether the C strings above were malloc'd here (the out-of-memory
    /// result's are static).
    private let ownsStrings: Bool

    private let lock = Lock()
    /// Parsed on the first member lookup; `.some(nil)`: not a JSON object.
    private var members: TopLevelMembers??
    /// Member values handed out, by name: they must stay put until freed.
    /// A list of its own rather than a Dictionary: a generic collection's
    /// type metadata is built by the runtime on first use, lock-free, and the
    /// first results read on several threads at once would race there in
    /// helgrind's eyes. A result's members are few.
    private var handedOut: HandedOut?

    private init(
        status: KaskoStatus, outcome: KaskoCOutcome, httpStatus: Int, attempts: Int, retryable: Bool,
        json: UnsafePointer<CChar>, jsonLength: Int, message: UnsafePointer<CChar>?, requestID: UnsafePointer<CChar>?,
        pendingPaymentID: UnsafePointer<CChar>?, ownsStrings: Bool
    ) {
        self.status = status
        self.outcome = outcome
        self.httpStatus = Int32(clamping: httpStatus)
        self.attempts = Int32(clamping: attempts)
        self.retryable = retryable
        self.json = json
        self.jsonLength = jsonLength
        self.message = message
        self.requestID = requestID
        self.pendingPaymentID = pendingPaymentID
        self.ownsStrings = ownsStrings
    }

    /// A success: the payment's text is copied here, once. nil if memory ran out.
    convenience init?(payment: PaymentJSON) {
        guard let text = CStrings.copy(payment.bytes) else { return nil }
        var requestID: UnsafeMutablePointer<CChar>?
        if let id = payment.requestID {
            requestID = CStrings.copy(id)
            guard requestID != nil else {
                free(text)
                return nil
            }
        }
        self.init(
            status: .ok, outcome: .outcomeSucceeded, httpStatus: payment.httpStatus, attempts: payment.attempts,
            retryable: false, json: text, jsonLength: payment.bytes.count, message: nil, requestID: requestID,
            pendingPaymentID: nil, ownsStrings: true)
        // Indexed while it was validated: no second scan on the first lookup.
        members = .some(payment.members)
        if let etag = payment.etag {
            guard let copy = CStrings.copy(etag) else { return nil }
            self.etag = UnsafePointer(copy)
        }
        if let date = payment.lastModified {
            guard let copy = CStrings.copy(date) else { return nil }
            self.lastModified = UnsafePointer(copy)
        }
        totalTimeMicroseconds = payment.totalTimeMicroseconds
    }

    /// A failure, with its error object. nil if memory ran out.
    convenience init?(error: KaskoError) {
        let json = error.json
        let text = CStrings.copy(json)
        let message = CStrings.copy(error.message)
        let requestID = error.requestID.map(CStrings.copy)
        let pending = error.pendingPaymentID.map(CStrings.copy)
        guard let text, let message, requestID != .some(nil), pending != .some(nil) else {
            for pointer in [text, message, requestID ?? nil, pending ?? nil] { free(pointer) }
            return nil
        }
        self.init(
            status: error.status, outcome: KaskoCOutcome(error.outcome), httpStatus: error.httpStatus ?? 0,
            attempts: error.attempts, retryable: error.retryable, json: text, jsonLength: json.utf8.count,
            message: message, requestID: requestID ?? nil, pendingPaymentID: pending ?? nil, ownsStrings: true)
        totalTimeMicroseconds = error.totalTimeMicroseconds
    }

    /// An event for an event hook: its JSON is the event object, its status,
    /// outcome, HTTP status, attempts, message and request id the event's.
    /// nil if memory ran out.
    convenience init?(event: ClientEvent) {
        let text = CStrings.copy(event.jsonBytes)
        let message = event.message.map(CStrings.copy)
        let requestID = event.requestID.map(CStrings.copy)
        guard let text, message != .some(nil), requestID != .some(nil) else {
            for pointer in [text, message ?? nil, requestID ?? nil] { free(pointer) }
            return nil
        }
        self.init(
            status: event.status, outcome: event.outcome.map(KaskoCOutcome.init) ?? .outcomeSucceeded,
            httpStatus: event.httpStatus ?? 0, attempts: event.attempt, retryable: false, json: text,
            jsonLength: event.jsonBytes.count, message: message ?? nil, requestID: requestID ?? nil,
            pendingPaymentID: nil, ownsStrings: true)
    }

    /// The result handed out when memory ran out: nothing of it is
    /// allocated. Its JSON is `KaskoError.internal("out of memory").json`
    /// (a test compares them).
    static let outOfMemory = CallResult(
        status: .internal, outcome: .outcomeNotSent, httpStatus: 0, attempts: 0, retryable: false,
        json: CStrings.staticText(outOfMemoryJSON), jsonLength: outOfMemoryJSON.utf8CodeUnitCount,
        message: CStrings.staticText("out of memory"), requestID: nil, pendingPaymentID: nil, ownsStrings: false)

    static let outOfMemoryJSON: StaticString = """
        {"object":"error","code":"KASKO_ERR_INTERNAL","http_status":null,"status":null,"message":"out of memory",\
        "pending_payment_id":null,"retryable":false,"outcome":"not_sent","attempts":0,"request_id":null}
        """

    deinit {
        if ownsStrings {
            for pointer in [json, message, requestID, pendingPaymentID, etag, lastModified] {
                free(UnsafeMutableRawPointer(mutating: pointer))
            }
        }
        var next = handedOut
        while let entry = next {
            free(entry.pointer)
            next = entry.next
        }
    }

    /// How a member lookup through the C API ended.
    enum Member {
        case found(UnsafePointer<CChar>, Int)
        case refused(KaskoCStatus)
    }

    func type(of name: String) -> KaskoCJSONType {
        if case .value(let value) = lookup(name) { return KaskoCJSONType(value) }
        return .jsonNone
    }

    /// The member's value, converted by `convert`; a value that `convert`
    /// refuses (another type) is an invalid argument, an ambiguous name an
    /// invalid response.
    func value<T>(of name: String, _ convert: (JSONValue) -> T?) -> Result<T, Refusal> {
        switch lookup(name) {
        case .absent: return .failure(Refusal(status: .errInvalidArgument))
        case .ambiguous: return .failure(Refusal(status: .errInvalidResponse))
        case .value(let value):
            guard let converted = convert(value) else { return .failure(Refusal(status: .errInvalidArgument)) }
            return .success(converted)
        }
    }

    /// Why a member could not be read, as the status the C API returns.
    struct Refusal: Error {
        let status: KaskoCStatus
    }

    /// A string member, unescaped, as a C string kept here.
    func string(of name: String) -> Member {
        switch value(of: name, { $0.stringValue }) {
        case .failure(let refusal): return .refused(refusal.status)
        case .success(let text): return cached(text, for: name, inStrings: true)
        }
    }

    /// Any member's value as JSON text, kept here.
    func text(of name: String) -> Member {
        switch value(of: name, { JSONWriter.serialize($0) }) {
        case .failure(let refusal): return .refused(refusal.status)
        case .success(let text): return cached(text, for: name, inStrings: false)
        }
    }

    private func lookup(_ name: String) -> TopLevelMembers.Lookup {
        lock.withLock {
            if members == nil {
                members = .some(TopLevelMembers(json: UnsafeBufferPointer(
                    start: UnsafeRawPointer(json).assumingMemoryBound(to: UInt8.self), count: jsonLength)))
            }
            // Every result's JSON is an object; if one were not, it has no members.
            guard case .some(.some(let parsed)) = members else { return .absent }
            return parsed.lookup(name)
        }
    }

    /// `text` as a C string kept here, made once per name and kind (one
    /// name can be read as a string and as JSON text).
    private func cached(_ text: String, for name: String, inStrings: Bool) -> Member {
        lock.withLock {
            var next = handedOut
            while let entry = next {
                if entry.isString == inStrings, entry.name == name { return .found(UnsafePointer(entry.pointer), entry.length) }
                next = entry.next
            }
            guard let copy = CStrings.copy(text) else { return .refused(.errInternal) }
            let count = text.utf8.count
            handedOut = HandedOut(name: name, isString: inStrings, pointer: copy, length: count, next: handedOut)
            return .found(UnsafePointer(copy), count)
        }
    }

    /// One member value handed out to C, and the ones before it.
    private final class HandedOut {
        let name: String
        let isString: Bool
        let pointer: UnsafeMutablePointer<CChar>
        let length: Int
        let next: HandedOut?

        init(name: String, isString: Bool, pointer: UnsafeMutablePointer<CChar>, length: Int, next: HandedOut?) {
            self.name = name
            self.isString = isString
            self.pointer = pointer
            self.length = length
            self.next = next
        }
    }

    /// The result behind a C pointer, without taking ownership.
    static func borrow(_ pointer: UnsafeRawPointer?) -> CallResult? {
        pointer.map { Unmanaged<CallResult>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Hands `result` (or, if it could not be made, the out-of-memory one)
    /// to the caller and returns its status.
    static func hand(_ result: CallResult?, to out: UnsafeMutablePointer<OpaquePointer?>) -> KaskoCStatus {
        let handed = result ?? outOfMemory
        // The static result is retained too, so that kasko_result_free can
        // release every result alike; it is never deallocated.
        out.pointee = OpaquePointer(Unmanaged.passRetained(handed).toOpaque())
        return KaskoCStatus(handed.status)
    }

    static func hand(_ error: KaskoError, to out: UnsafeMutablePointer<OpaquePointer?>) -> KaskoCStatus {
        hand(CallResult(error: error), to: out)
    }

    /// For the functions whose success has nothing to report (making a
    /// client, checking options): `*out` is NULL on success, else the
    /// refusal; a NULL `out` gets the status alone.
    static func handRefusal(_ outcome: Result<Void, KaskoError>, to out: UnsafeMutablePointer<OpaquePointer?>?) -> KaskoCStatus {
        out?.pointee = nil
        switch outcome {
        case .success: return .ok
        case .failure(let error):
            guard let out else { return KaskoCStatus(error.status) }
            return hand(error, to: out)
        }
    }
}
