// The --webhook-url, parsed once at start: where deliveries go.

package struct WebhookTarget: Sendable, Equatable {
    package let secure: Bool
    package let host: String
    package let port: Int
    /// The request target: path and query, "/" at least.
    package let target: String

    /// The Host header: the host, bracketed if IPv6, with a non-default port.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (secure ? 443 : 80) ? name : "\(name):\(port)"
    }

    /// http:// or https:// URLs with a host, an optional port 1–65535, no
    /// user info, no fragment, nothing that is not printable ASCII.
    package static func parse(_ url: String) -> WebhookTarget? {
        guard !url.isEmpty, url.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }), !url.contains("#") else { return nil }
        let lowered = url.lowercased()
        let secure: Bool
        let rest: Substring
        if lowered.hasPrefix("http://") {
            secure = false
            rest = url.dropFirst(7)
        } else if lowered.hasPrefix("https://") {
            secure = true
            rest = url.dropFirst(8)
        } else {
            return nil
        }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...])
        if target.isEmpty {
            target = "/"
        } else if target.hasPrefix("?") {
            target = "/" + target
        }
        guard !authority.isEmpty, !authority.contains("@") else { return nil }

        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
            guard host.contains(":") else { return nil }
        } else {
            if let colon = authority.firstIndex(of: ":") {
                host = authority[..<colon]
                portText = authority[authority.index(after: colon)...]
            } else {
                host = authority
            }
            guard host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" }) else {
                return nil
            }
        }
        guard !host.isEmpty else { return nil }
        var port = secure ? 443 : 80
        if let portText {
            guard !portText.isEmpty, portText.allSatisfy(\.isASCII), portText.allSatisfy(\.isNumber),
                  portText.count <= 5, let number = Int(portText), (1...65535).contains(number)
            else { return nil }
            port = number
        }
        return WebhookTarget(secure: secure, host: String(host), port: port, target: target)
    }
}
