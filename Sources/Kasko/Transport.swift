import CCurl

/// Turns requests into HTTP exchanges over libcurl: fixed headers, the
/// handle pool of the calling process, one attempt per call. Retry decisions
/// live in `OutcomeRules`.
final class Transport: @unchecked Sendable {
    /// Larger responses are refused: a payment object is a few kilobytes.
    static let maximumBodyBytes = 1 << 20

    private let pools: ProcessLocal<HandlePool>
    private let headers: RequestHeaders
    /// The engine of asynchronous calls, made by the first one.
    let engines: ProcessLocal<AsyncEngine>

    init(configuration: Configuration) throws(KaskoError) {
        guard CurlGlobal.ensureInitialised() else {
            throw .internal("curl_global_init failed")
        }
        let libraryAgent = "libkasko/\(KaskoVersion.string) libcurl/\(CurlGlobal.versionNumber)"
        let settings = TransportSettings(
            userAgent: configuration.userAgentPrefix.map { "\($0) \(libraryAgent)" } ?? libraryAgent,
            connectTimeoutMilliseconds: configuration.connectTimeoutMilliseconds,
            timeoutMilliseconds: configuration.timeoutMilliseconds,
            caBundlePath: configuration.caBundlePath,
            // Plain http is allowed only because it never leaves the host: no
            // proxy from the environment may carry it (and the key in it)
            // elsewhere. libcurl 7.88 does not exempt loopback from
            // http_proxy/ALL_PROXY, so "" turns the environment off.
            proxy: configuration.proxy ?? (configuration.baseURL.usesTLS ? nil : ""),
            maximumBodyBytes: Transport.maximumBodyBytes)
        let common = ["Accept: application/vnd.kasko.v2+json"]
        let authorization = configuration.secretKey.map { (prefix: "Authorization: Bearer ", secret: $0.bytes) }
        do {
            pools = try ProcessLocal(eager: true) { () throws(TransportFailure) in try HandlePool(settings: settings) }
            // "Expect:" stops libcurl from waiting for 100 Continue on bodies over 1 KiB.
            let body = ["Content-Type: application/json", "Expect:"]
            let headers = RequestHeaders(
                get: try HeaderList(common, secretHeader: authorization),
                post: try HeaderList(common + body, secretHeader: authorization),
                quote: try HeaderList(["Accept: application/vnd.kasko.v3+json"] + body, secretHeader: authorization))
            self.headers = headers
            // HTTP/2 multiplexing where a TLS server offers it: wait for a
            // stream on an existing connection rather than open another.
            let multiplex = configuration.baseURL.usesTLS
            engines = try ProcessLocal(eager: false) { () throws(TransportFailure) in
                try AsyncEngine(settings: settings, headers: headers, multiplex: multiplex)
            }
        } catch {
            throw .internal(error.message)
        }
    }

    /// Makes one attempt and hands its result to `consume` while the easy
    /// handle is still lent to this thread: a response's body is the
    /// handle's own buffer, which its next request reuses, so `consume` must
    /// not let it escape (copy what must outlive the call).
    func send<T>(_ request: HTTPRequest, consume: (Result<HTTPResponse, TransportFailure>) -> T) -> T {
        let headers = self.headers.list(for: request)
        let pool: HandlePool
        switch pools.value() {
        case .success(let current): pool = current
        case .failure(let failure): return consume(.failure(failure))
        }
        switch pool.withHandle({ consume($0.perform(request, headers: headers)) }) {
        case .success(let consumed): return consumed
        case .failure(let failure): return consume(.failure(failure))
        }
    }
}

/// The client's fixed header lists, one per kind of request, shared by its
/// blocking calls and its engine.
final class RequestHeaders: @unchecked Sendable {
    private let get: HeaderList
    private let post: HeaderList
    /// A quote's: v3, which the API wants for quotes only.
    private let quote: HeaderList

    init(get: HeaderList, post: HeaderList, quote: HeaderList) {
        self.get = get
        self.post = post
        self.quote = quote
    }

    func list(for request: HTTPRequest) -> UnsafeMutablePointer<curl_slist>? {
        switch (request.method, request.accept) {
        case (.get, _): return get.list
        case (.post, .v2): return post.list
        case (.post, .v3): return quote.list
        }
    }
}
