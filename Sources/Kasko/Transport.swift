/// Turns requests into HTTP exchanges over libcurl: fixed headers, the
/// handle pool, one attempt per call. Retry decisions live in `RetryPolicy`.
final class Transport: @unchecked Sendable {
    /// Larger responses are refused: a payment object is a few kilobytes.
    static let maximumBodyBytes = 1 << 20

    private let pool: HandlePool
    private let getHeaders: HeaderList
    private let postHeaders: HeaderList

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
            proxy: configuration.proxy,
            maximumBodyBytes: Transport.maximumBodyBytes)
        let common = ["Accept: application/vnd.kasko.v2+json"]
        let authorization = configuration.secretKey.map { (prefix: "Authorization: Bearer ", secret: $0.bytes) }
        do {
            pool = try HandlePool(settings: settings)
            getHeaders = try HeaderList(common, secretHeader: authorization)
            // "Expect:" stops libcurl from waiting for 100 Continue on bodies over 1 KiB.
            postHeaders = try HeaderList(common + ["Content-Type: application/json", "Expect:"], secretHeader: authorization)
        } catch {
            throw .internal(error.message)
        }
    }

    func send(_ request: HTTPRequest) -> Result<HTTPResponse, TransportFailure> {
        let headers = request.method == .get ? getHeaders.list : postHeaders.list
        switch pool.withHandle({ $0.perform(request, headers: headers) }) {
        case .success(let result): return result
        case .failure(let failure): return .failure(failure)
        }
    }
}
