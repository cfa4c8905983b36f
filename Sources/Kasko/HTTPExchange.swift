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
    let requestID: String?
    /// `Retry-After` in whole seconds, when the server sent one.
    let retryAfterSeconds: Int?
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
    /// True when libcurl timed out (a timeout during connect is `notSent`).
    let timedOut: Bool
}
