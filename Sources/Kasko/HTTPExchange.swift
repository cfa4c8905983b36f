import CCurl

/// One HTTP request as the transport sends it.
struct HTTPRequest {
    enum Method: String {
        case get = "GET"
        case post = "POST"
    }

    let method: Method
    let url: String
    /// The body for POST; empty for GET.
    let body: [UInt8]
}

/// A complete HTTP response: any status, with a body no larger than the limit.
struct HTTPResponse {
    let status: Int
    let body: [UInt8]
    /// The `X-Request-Id` header's value, as it came.
    let requestIDBytes: [UInt8]?
    /// `Retry-After` in whole seconds, when the server sent one.
    let retryAfterSeconds: Int?

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

    var requestID: String? { requestIDBytes.flatMap(HTTPResponse.text) }

    /// Header bytes as text; nil when they are not UTF-8.
    static func text(_ bytes: [UInt8]) -> String? {
        String(validating: bytes, as: UTF8.self)
    }
}

/// Why no complete response arrived.
struct TransportFailure: Error {
    enum Kind {
        /// The request never reached the server (DNS, connect, proxy).
        case notSent
        /// TLS failed before any request byte was sent: certificate or
        /// handshake problem. Not retried: it will not mend itself.
        case tls
        /// The request was (at least partly) sent; no usable answer came.
        case noAnswer
        /// The server answered with a body larger than the limit.
        case bodyTooLarge
        /// libcurl refused an option or could not allocate.
        case local
    }

    let kind: Kind
    let curlCode: Int
    let message: String
    /// Set when the status line had arrived before the failure.
    let httpStatus: Int?
    let requestID: String?

    /// libcurl or memory failed us before anything was sent.
    static func local(_ message: String) -> TransportFailure {
        TransportFailure(
            kind: .local, curlCode: Int(CURLE_OUT_OF_MEMORY.rawValue), message: message, httpStatus: nil, requestID: nil)
    }
}

extension String {
    /// Without leading and trailing spaces and tabs (Foundation is not linked).
    func trimmingASCIIWhitespace() -> Substring {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
