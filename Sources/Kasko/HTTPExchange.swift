import CCurl

/// One HTTP request as the transport sends it.
struct HTTPRequest {
    enum Method: String {
        case get = "GET"
        case post = "POST"
    }

    /// Which media type the request asks for: v3 only for a quote (the
    /// API's other resources stay on v2, even in v3 products).
    enum Accept {
        case v2
        case v3
    }

    let method: Method
    var accept = Accept.v2
    /// The URL is `urlPrefix + urlSuffix`, joined only in the buffer handed
    /// to libcurl (which copies it): a view's URL is the client's fixed
    /// prefix plus the payment id, and building a Swift string of it on every
    /// call would cost an allocation.
    let urlPrefix: String
    let urlSuffix: String
    /// The body for POST; empty for GET.
    let body: [UInt8]
    /// A call's own limit per attempt, instead of the client's `timeout_ms`.
    var timeoutMilliseconds: Int?
    /// Header lines sent before the client's fixed ones (trace context).
    var extraHeaders: [String] = []
    /// For a typed result: read `X-Request-Id` on success too, and index the
    /// payment's members while validating it (the 1.0 calls do neither, and
    /// do not pay for them).
    var forTypedResult = false
    /// An event hook is set: read libcurl's timings and sizes after the
    /// attempt (`AttemptMeasure`) and the request id on success too.
    var measures = false
    /// Read `ETag` and `Last-Modified` of a success (a policy view: what a
    /// later update or cancel sends back as `If-Match`).
    var readsValidators = false

    init(method: Method, urlPrefix: String, urlSuffix: String = "", body: [UInt8]) {
        self.method = method
        self.urlPrefix = urlPrefix
        self.urlSuffix = urlSuffix
        self.body = body
    }

    /// This request as a call with `options` sends it.
    func with(_ options: CallOptions) -> HTTPRequest {
        var copy = self
        copy.timeoutMilliseconds = options.timeoutMilliseconds
        copy.extraHeaders = options.headers
        copy.forTypedResult = true
        return copy
    }

    /// Calls `body` with the URL as a NUL-terminated C string.
    func withURL<T>(_ body: (UnsafePointer<CChar>) -> T) -> T {
        var prefix = urlPrefix
        var suffix = urlSuffix
        return prefix.withUTF8 { head in
            suffix.withUTF8 { tail in
                withUnsafeTemporaryAllocation(of: CChar.self, capacity: head.count + tail.count + 1) { buffer in
                    // Never nil for a capacity of one or more.
                    guard let base = buffer.baseAddress else { return "".withCString(body) }
                    let raw = UnsafeMutableRawPointer(base)
                    if let source = head.baseAddress { raw.copyMemory(from: source, byteCount: head.count) }
                    if let source = tail.baseAddress { (raw + head.count).copyMemory(from: source, byteCount: tail.count) }
                    base[head.count + tail.count] = 0
                    return body(UnsafePointer(base))
                }
            }
        }
    }
}

/// A complete HTTP response: any status, with a body no larger than the limit.
struct HTTPResponse {
    let status: Int
    let body: [UInt8]
    /// The `X-Request-Id` header's value, as it came.
    let requestIDBytes: [UInt8]?
    /// `Retry-After` in whole seconds, when the server sent one.
    let retryAfterSeconds: Int?
    /// What libcurl measured, when the request `measures`.
    var measure: AttemptMeasure?
    /// `ETag` and `Last-Modified` as they came, when the request `readsValidators`.
    var etagBytes: [UInt8]?
    var lastModifiedBytes: [UInt8]?

    init(status: Int, body: [UInt8], requestIDBytes: [UInt8]?, retryAfterSeconds: Int?) {
        self.status = status
        self.body = body
        self.requestIDBytes = requestIDBytes
        self.retryAfterSeconds = retryAfterSeconds
    }

    init(status: Int, body: [UInt8], requestID: String?, retryAfterSeconds: Int?) {
        self.init(status: status, body: body, requestIDBytes: requestID.map { Array($0.utf8) },
                  retryAfterSeconds: retryAfterSeconds)
    }

    var requestID: String? { requestIDBytes.flatMap(HTTPResponse.headerText) }

    /// A header's value as text: without surrounding blanks
    /// (spaces, tabs, CR, LF: libcurl 7.88 leaves the CR of an empty value);
    /// nil when nothing is left or it is not UTF-8.
    static func headerText(_ bytes: [UInt8]) -> String? {
        let isBlank = { (byte: UInt8) in byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        guard let first = bytes.firstIndex(where: { !isBlank($0) }),
              let last = bytes.lastIndex(where: { !isBlank($0) }) else { return nil }
        return String(validating: bytes[first...last], as: UTF8.self)
    }
}

/// Why no complete response arrived, with the evidence `OutcomeRules`
/// decides from.
struct TransportFailure: Error {
    let evidence: AttemptEvidence
    let curlCode: Int
    let message: String
    /// Set when the status line had arrived before the failure.
    let httpStatus: Int?
    let requestID: String?
    /// What libcurl measured, when the request `measures` and got as far as a perform.
    var measure: AttemptMeasure? = nil

    /// libcurl or memory failed us before anything was sent.
    static func local(_ message: String) -> TransportFailure {
        TransportFailure(
            evidence: .notSent(.local), curlCode: Int(CURLE_OUT_OF_MEMORY.rawValue), message: message,
            httpStatus: nil, requestID: nil)
    }
}
