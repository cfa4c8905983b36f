/// The API's root URL, checked so that requests can be built by plain
/// concatenation: `https://host[:port][/path]`, no trailing slash, no query,
/// fragment or credentials. Plain `http://` is allowed only for loopback, so
/// a typo cannot send keys and payment tokens across a network in clear text.
public struct BaseURL: Sendable, CustomStringConvertible {
    public let text: String
    /// The part after the host, "" or "/v1": what an error names a request
    /// by, with the rest of the path.
    public let path: String
    public let isLoopback: Bool
    /// `https://`; otherwise plain `http://` to a loopback host.
    public let usesTLS: Bool

    public init(_ raw: String) throws(KaskoError) {
        if raw.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }) {
            throw .invalidArgument("base_url contains whitespace or a control character")
        }
        let lowered = raw.lowercased()
        let secure: Bool
        let rest: Substring
        if lowered.hasPrefix("https://") {
            secure = true
            rest = raw.dropFirst(8)
        } else if lowered.hasPrefix("http://") {
            secure = false
            rest = raw.dropFirst(7)
        } else {
            throw .invalidArgument("base_url must start with https:// (or http:// for a loopback address)")
        }
        if rest.contains("?") || rest.contains("#") {
            throw .invalidArgument("base_url must not have a query or fragment")
        }
        let authority = rest.prefix { $0 != "/" }
        var path = rest.dropFirst(authority.count)
        if authority.contains("@") {
            throw .invalidArgument("base_url must not contain credentials (user@host); use public_key and secret_key")
        }
        let host = try BaseURL.host(of: authority, field: "base_url")
        let loopback = BaseURL.isLoopbackHost(host)
        if !secure && !loopback {
            throw .invalidArgument(
                "base_url uses plain http:// for a host that is not loopback (127.0.0.0/8, ::1, localhost); use https://")
        }
        while path.hasSuffix("/") { path = path.dropLast() }
        text = (secure ? "https://" : "http://") + authority + path
        self.path = String(path)
        isLoopback = loopback
        usesTLS = secure
    }

    /// The host part of `host[:port]` or `[v6][:port]`, with the port checked.
    static func host(of authority: Substring, field: String) throws(KaskoError) -> Substring {
        let host: Substring
        let portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                throw .invalidArgument("\(field) has an unterminated [IPv6] host")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.isEmpty {
                portText = nil
            } else if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else {
                throw .invalidArgument("\(field) has characters after the [IPv6] host")
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
            portText = nil
        }
        guard !host.isEmpty else { throw .invalidArgument("\(field) has no host") }
        let isIPv6 = authority.hasPrefix("[")
        guard host.utf8.allSatisfy({ isHostByte($0, inIPv6: isIPv6) }) else {
            throw .invalidArgument(
                isIPv6
                    ? "\(field) has an [IPv6] host with characters other than hex digits, ':' and '.'"
                    : "\(field) host may contain only ASCII letters, digits, '-', '.' and '_' "
                        + "(write an international name in its xn-- form)")
        }
        if let portText {
            // ASCII digits only: Int() would also take "+8080", which libcurl
            // refuses at the first call instead of here.
            let digits = portText.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
            guard digits, (1...5).contains(portText.utf8.count), let port = Int(portText), (1...65535).contains(port) else {
                throw .invalidArgument("\(field) port must be a number from 1 to 65535, in ASCII digits")
            }
        }
        return host
    }

    private static func isHostByte(_ byte: UInt8, inIPv6: Bool) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"),
             UInt8(ascii: "A")...UInt8(ascii: "F"), UInt8(ascii: "."):
            return true
        case UInt8(ascii: ":"):
            return inIPv6
        case UInt8(ascii: "g")...UInt8(ascii: "z"), UInt8(ascii: "G")...UInt8(ascii: "Z"),
             UInt8(ascii: "-"), UInt8(ascii: "_"):
            return !inIPv6
        default:
            return false
        }
    }

    static func isLoopbackHost(_ host: Substring) -> Bool {
        let name = host.lowercased()
        if name == "localhost" || name == "::1" { return true }
        let octets = name.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4, octets[0] == "127" else { return false }
        return octets.allSatisfy { octet in
            guard let value = Int(octet), octet.count <= 3 else { return false }
            return (0...255).contains(value)
        }
    }

    public var description: String { text }
}
