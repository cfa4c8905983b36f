/// What one call may set for itself: its own time limit and the W3C Trace
/// Context headers. A value is checked when it is set; an invalid one is
/// remembered with the reason, and every call made with these options fails
/// with that reason before any I/O (`problem`), so that a caller who ignored
/// a setter's failure never gets a silent default instead.
public struct CallOptions: Sendable {
    /// Overrides the client's `timeout_ms` for each attempt; nil: the client's.
    public private(set) var timeoutMilliseconds: Int?
    public private(set) var traceparent: String?
    public private(set) var tracestate: String?
    private var refusals = Refusals()

    public init() {}

    /// The first refused option's reason, nil when every option is valid.
    public var problem: KaskoError? { refusals.first }

    /// 0 restores the client's timeout.
    public mutating func setTimeout(milliseconds: Int) throws(KaskoError) {
        let range = Configuration.timeoutRange
        try refusals.record("timeout_ms", milliseconds == 0 || range.contains(milliseconds) ? nil : .invalidArgument(
            "call option timeout_ms must be 0 (the client's) or a whole number from "
                + "\(range.lowerBound) to \(range.upperBound), got \(milliseconds)"))
        timeoutMilliseconds = milliseconds == 0 ? nil : milliseconds
    }

    /// nil removes it.
    public mutating func setTraceparent(_ value: String?) throws(KaskoError) {
        try refusals.record("traceparent", Refusals.failure { () throws(KaskoError) in
            if let value { try TraceContext.checkTraceparent(value) }
        })
        traceparent = value
    }

    /// nil removes it.
    public mutating func setTracestate(_ value: String?) throws(KaskoError) {
        try refusals.record("tracestate", Refusals.failure { () throws(KaskoError) in
            if let value { try TraceContext.checkTracestate(value) }
        })
        tracestate = value
    }

    /// The headers these options add to every attempt.
    var headers: [String] {
        var lines: [String] = []
        if let traceparent { lines.append("traceparent: " + traceparent) }
        if let tracestate { lines.append("tracestate: " + tracestate) }
        return lines
    }

    /// Remembers that a value for `option` was refused before it could be
    /// checked here (the C layer could not read it).
    public mutating func refuse(_ option: String, because problem: KaskoError) {
        try? refusals.record(option, problem)
    }
}

/// W3C Trace Context (https://www.w3.org/TR/trace-context/) header values,
/// checked so that nothing but a well-formed header reaches the wire: the
/// values are the caller's, and a CR or LF in one would inject headers.
enum TraceContext {
    static let maximumTracestateBytes = 512
    static let maximumTracestateMembers = 32

    /// `version-traceid-parentid-flags`, lower-case hex; version 00 has
    /// exactly these four fields, a later version may add more after a '-'.
    static func checkTraceparent(_ value: String) throws(KaskoError) {
        let problem = "call option traceparent must be a W3C traceparent such as "
            + "\"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\""
        let bytes = Array(value.utf8)
        guard bytes.count >= 55, bytes.count <= 512,
              bytes[2] == UInt8(ascii: "-"), bytes[35] == UInt8(ascii: "-"), bytes[52] == UInt8(ascii: "-"),
              isHex(bytes[0..<2]), isHex(bytes[3..<35]), isHex(bytes[36..<52]), isHex(bytes[53..<55])
        else {
            throw .invalidArgument(problem + " (version-traceid-parentid-flags in lower-case hex)")
        }
        let version = bytes[0..<2]
        guard version.elementsEqual("ff".utf8) == false else {
            throw .invalidArgument(problem + " (version ff is invalid)")
        }
        if version.elementsEqual("00".utf8) {
            guard bytes.count == 55 else { throw .invalidArgument(problem + " (version 00 has exactly 55 characters)") }
        } else if bytes.count > 55 {
            guard bytes[55] == UInt8(ascii: "-"),
                  bytes[56...].allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
                throw .invalidArgument(problem + " (a later version's extra fields follow a '-')")
            }
        }
        guard bytes[3..<35].contains(where: { $0 != UInt8(ascii: "0") }) else {
            throw .invalidArgument(problem + " (the trace id must not be all zeros)")
        }
        guard bytes[36..<52].contains(where: { $0 != UInt8(ascii: "0") }) else {
            throw .invalidArgument(problem + " (the parent id must not be all zeros)")
        }
    }

    /// A comma-separated list of `key=value` members, printable ASCII only.
    static func checkTracestate(_ value: String) throws(KaskoError) {
        let problem = "call option tracestate must be a W3C tracestate: at most \(maximumTracestateMembers) "
            + "comma-separated key=value members, at most \(maximumTracestateBytes) bytes of printable ASCII"
        let bytes = Array(value.utf8)
        guard !bytes.isEmpty, bytes.count <= maximumTracestateBytes,
              bytes.allSatisfy({ $0 >= 0x20 && $0 <= 0x7E }) else {
            throw .invalidArgument(problem)
        }
        var keys: [ArraySlice<UInt8>] = []
        for member in bytes.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            let isBlank = { (byte: UInt8) in byte == 0x20 || byte == 0x09 }
            guard let first = member.firstIndex(where: { !isBlank($0) }),
                  let last = member.lastIndex(where: { !isBlank($0) }) else {
                continue  // empty list members are allowed and ignored
            }
            let trimmed = member[first...last]
            guard let equals = trimmed.firstIndex(of: UInt8(ascii: "=")),
                  isKey(trimmed[..<equals]), isValue(trimmed[(equals + 1)...]) else {
                throw .invalidArgument(problem + " (each member is key=value: a key of a-z, 0-9, _-*/ and at most one @, "
                    + "a value of at most 256 characters without ',' or '=')")
            }
            guard !keys.contains(where: { $0.elementsEqual(trimmed[..<equals]) }) else {
                throw .invalidArgument(problem + " (a key appears twice)")
            }
            keys.append(trimmed[..<equals])
        }
        guard !keys.isEmpty, keys.count <= maximumTracestateMembers else {
            throw .invalidArgument(problem)
        }
    }

    /// simple-key = lcalpha 0*255(keychar); multi-tenant-key = tenant-id "@"
    /// system-id, tenant-id = (lcalpha / DIGIT) 0*240(keychar), system-id =
    /// lcalpha 0*13(keychar).
    private static func isKey(_ key: ArraySlice<UInt8>) -> Bool {
        let isLower = { (byte: UInt8) in byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") }
        let isDigit = { (byte: UInt8) in byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        let isKeyChar = { (byte: UInt8) in isLower(byte) || isDigit(byte) || "_-*/".utf8.contains(byte) }
        let parts = key.split(separator: UInt8(ascii: "@"), omittingEmptySubsequences: false)
        switch parts.count {
        case 1:
            guard let head = key.first, isLower(head), key.count <= 256 else { return false }
            return key.allSatisfy(isKeyChar)
        case 2:
            let tenant = parts[0], system = parts[1]
            guard let tenantHead = tenant.first, isLower(tenantHead) || isDigit(tenantHead), tenant.count <= 241,
                  let systemHead = system.first, isLower(systemHead), system.count <= 14 else { return false }
            return tenant.allSatisfy(isKeyChar) && system.allSatisfy(isKeyChar)
        default:
            return false
        }
    }

    /// 0*255(chr) nblk-chr: printable ASCII but ',' and '=', not ending in a space.
    private static func isValue(_ value: ArraySlice<UInt8>) -> Bool {
        guard let last = value.last, last != 0x20, value.count <= 256 else { return false }
        return value.allSatisfy { $0 >= 0x20 && $0 <= 0x7E && $0 != UInt8(ascii: ",") && $0 != UInt8(ascii: "=") }
    }

    private static func isHex(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.allSatisfy { ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f")) }
    }
}
