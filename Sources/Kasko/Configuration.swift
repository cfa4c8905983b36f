#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A client's settings, parsed from the JSON configuration the C API takes.
/// Everything is checked here, once, so that a mistake is reported when the
/// client is made rather than as a confusing failure on the first payment.
public struct Configuration: Sendable {
    public static let defaultBaseURL = "https://api.eu1.kaskocloud.com"
    public static let defaultTimeoutMilliseconds = 60_000
    public static let defaultConnectTimeoutMilliseconds = 10_000
    /// The accepted `timeout_ms` and `connect_timeout_ms`, also per call.
    public static let timeoutRange = 1...3_600_000
    public static let defaultMaxRetries = 2

    static let knownKeys = [
        "public_key", "secret_key", "base_url", "timeout_ms", "connect_timeout_ms",
        "max_retries", "ca_bundle", "proxy", "user_agent",
    ]
    /// The keys whose values are whole numbers; the others are strings.
    static let integerKeys: Set<String> = ["timeout_ms", "connect_timeout_ms", "max_retries"]
    static let configurationObject = StrictObject(
        document: "configuration", member: "key", listName: "known keys", knownKeys: Configuration.knownKeys)

    public let publicKey: APIKey
    public let secretKey: APIKey?
    public let baseURL: BaseURL
    public let timeoutMilliseconds: Int
    public let connectTimeoutMilliseconds: Int
    public let maxRetries: Int
    public let caBundlePath: String?
    /// nil: libcurl's default (the `https_proxy`/`http_proxy`/`no_proxy`
    /// environment variables, as for curl itself); "": no proxy at all.
    public let proxy: String?
    /// The caller's product token, put before the library's own.
    public let userAgentPrefix: String?

    public init(json: String) throws(KaskoError) {
        try self.init(checkedDocument: try Configuration.configurationObject.parse(json))
    }

    /// From members set one by one (`ConfigurationBuilder`), with the same checks.
    init(members: [JSONMember]) throws(KaskoError) {
        let document = JSONValue.object(members)
        try Configuration.configurationObject.check(document)
        try self.init(checkedDocument: document)
    }

    private init(checkedDocument document: JSONValue) throws(KaskoError) {
        guard let publicKeyValue = document["public_key"], publicKeyValue != .null else {
            throw .invalidArgument("configuration is missing \"public_key\" (pk_test_... or pk_live_...)")
        }
        publicKey = try APIKey(publicKeyValue, field: "public_key", kind: .publishable)
        if let value = document["secret_key"], value != .null {
            let secret = try APIKey(value, field: "secret_key", kind: .secret)
            guard secret.mode == publicKey.mode else {
                throw .invalidArgument(
                    "public_key is a \(publicKey.mode.rawValue) key but secret_key is a \(secret.mode.rawValue) key; "
                        + "both must be test keys or both live keys")
            }
            secretKey = secret
        } else {
            secretKey = nil
        }

        baseURL = try BaseURL(try Configuration.optionalString(document, "base_url") ?? Configuration.defaultBaseURL)
        timeoutMilliseconds = try Configuration.integer(
            document, "timeout_ms", default: Configuration.defaultTimeoutMilliseconds, range: Configuration.timeoutRange)
        connectTimeoutMilliseconds = try Configuration.integer(
            document, "connect_timeout_ms", default: Configuration.defaultConnectTimeoutMilliseconds,
            range: Configuration.timeoutRange)
        maxRetries = try Configuration.integer(
            document, "max_retries", default: Configuration.defaultMaxRetries, range: 0...10)

        if let path = try Configuration.optionalString(document, "ca_bundle") {
            try CABundle.check(path)
            caBundlePath = path
        } else {
            caBundlePath = nil
        }
        if let proxyValue = try Configuration.optionalString(document, "proxy") {
            let proxyHost = try Configuration.checkProxy(proxyValue)
            // Plain http carries the secret key in clear text: it may pass
            // through a proxy only one on this host.
            if let proxyHost, !baseURL.usesTLS, !BaseURL.isLoopbackHost(proxyHost) {
                throw .invalidArgument(
                    "proxy must be a loopback address (127.0.0.0/8, ::1, localhost) when base_url is plain http://: "
                        + "the secret key would cross the network in clear text")
            }
            proxy = proxyValue
        } else {
            proxy = nil
        }
        if let agent = try Configuration.optionalString(document, "user_agent") {
            try Configuration.refuseControlCharacters(agent, field: "user_agent")
            guard agent.utf8.count <= 256 else {
                throw .invalidArgument("user_agent is longer than 256 bytes")
            }
            userAgentPrefix = agent.isEmpty ? nil : agent
        } else {
            userAgentPrefix = nil
        }
    }

    static func optionalString(_ document: JSONValue, _ key: String) throws(KaskoError) -> String? {
        guard let value = document[key], value != .null else { return nil }
        guard case .string(let text) = value else {
            throw .invalidArgument("\(key) must be a string, got \(value.typeName)")
        }
        return text
    }

    static func integer(
        _ document: JSONValue, _ key: String, default defaultValue: Int, range: ClosedRange<Int>
    ) throws(KaskoError) -> Int {
        guard let value = document[key], value != .null else { return defaultValue }
        let problem = "\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound)"
        guard case .number(let literal) = value else {
            throw .invalidArgument("\(problem), got \(value.typeName)")
        }
        guard let number = Int(literal), range.contains(number) else {
            throw .invalidArgument("\(problem), got \(literal)")
        }
        return number
    }

    /// "" (no proxy) or `scheme://host[:port]`, with a scheme libcurl
    /// speaks. Checked here so that a typo is not a network error later.
    /// Returns the proxy's host; nil for "".
    static func checkProxy(_ proxy: String) throws(KaskoError) -> Substring? {
        guard !proxy.isEmpty else { return nil }
        try refuseControlCharacters(proxy, field: "proxy")
        if proxy.unicodeScalars.contains(where: { $0.properties.isWhitespace }) {
            throw .invalidArgument("proxy contains whitespace")
        }
        let schemes = ["http://", "https://", "socks4://", "socks4a://", "socks5://", "socks5h://"]
        guard let scheme = schemes.first(where: { proxy.lowercased().hasPrefix($0) }) else {
            throw .invalidArgument("proxy must be a URL starting with " + schemes.joined(separator: ", ") + ", or \"\" for none")
        }
        var authority = proxy.dropFirst(scheme.count)
        if authority.hasSuffix("/") { authority = authority.dropLast() }
        if let at = authority.lastIndex(of: "@") {
            authority = authority[authority.index(after: at)...]
        }
        guard !authority.contains("/"), !authority.contains("?"), !authority.contains("#") else {
            throw .invalidArgument("proxy must be scheme://host[:port], without a path")
        }
        return try BaseURL.host(of: authority, field: "proxy")
    }

    static func refuseControlCharacters(_ text: String, field: String) throws(KaskoError) {
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw .invalidArgument("\(field) contains a control character")
        }
    }
}
