import Testing
@testable import Kasko

/// Facts written down outside the code, checked against the code: the one
/// source of each is here in the core.
@Suite struct DocumentedFactsTests {
    /// The configuration keys: `Configuration.knownKeys` is the list; the
    /// README's table, the header's kasko_client_new and the Python binding
    /// (which maps its keyword arguments onto them) must name the same.
    @Test func everyCopyOfTheConfigurationKeysIsTheSame() throws {
        let readme = try #require(readFile(repositoryRoot + "/README.md"))
        let section = try #require(readme.firstRange(of: "## Configuration"))
        var keys: [String] = []
        for line in readme[section.upperBound...].split(separator: "\n") {
            if line.hasPrefix("## ") { break }
            guard line.hasPrefix("| `") else { continue }
            let name = line.dropFirst(3).prefix { $0 != "`" }
            keys.append(String(name))
        }
        #expect(keys == Configuration.knownKeys, "README.md's configuration table")

        let header = try #require(readFile(repositoryRoot + "/include/kasko.h"))
        let start = try #require(header.firstRange(of: "Creates a client from a JSON configuration object."))
        let end = try #require(header[start.upperBound...].firstRange(of: "kasko_status kasko_client_new("))
        let doc = header[start.upperBound..<end.lowerBound]
        for key in Configuration.knownKeys {
            #expect(doc.contains("\"\(key)\""), "kasko_client_new's comment does not name \"\(key)\"")
        }

        let python = try #require(readFile(repositoryRoot + "/bindings/python/kasko/_client.py"))
        for key in Configuration.knownKeys {
            #expect(python.contains("\"\(key)\":"), "the Python binding does not map \"\(key)\"")
        }
    }

    /// The README's defaults are the code's.
    @Test func theReadmeStatesTheDefaults() throws {
        let readme = try #require(readFile(repositoryRoot + "/README.md"))
        #expect(readme.contains("| `timeout_ms` | total time per attempt | \(Configuration.defaultTimeoutMilliseconds) |"))
        #expect(readme.contains("| `connect_timeout_ms` | time to connect | \(Configuration.defaultConnectTimeoutMilliseconds) |"))
        #expect(readme.contains("(0–10) | \(Configuration.defaultMaxRetries) |"))
        #expect(readme.contains("`\(Configuration.defaultBaseURL)`"))
    }

    /// The members a quote and an offer request must have: `CheckoutRequest`
    /// is the list; the C header's comments and docs/checkout.md name them.
    @Test func everyCopyOfTheCheckoutRequestMembersIsTheSame() throws {
        let header = try #require(readFile(repositoryRoot + "/include/kasko.h"))
        let guide = try #require(readFile(repositoryRoot + "/docs/checkout.md"))
        let sections: [(start: String, members: [String])] = [
            ("Prices an insurance: a v3 quote", CheckoutRequest.quoteRequired.map(\.name)),
            ("Makes an offer: an unpaid policy", (CheckoutRequest.offerRequired + CheckoutRequest.offerOptional).map(\.name)),
        ]
        for (start, members) in sections {
            let from = try #require(header.firstRange(of: start))
            let doc = header[from.upperBound...].prefix(3000)
            for name in members {
                #expect(doc.contains("\"\(name)\""), "the header's comment after \"\(start)\" does not name \"\(name)\"")
                #expect(guide.contains("`\(name)`"), "docs/checkout.md does not name `\(name)`")
            }
        }
    }
}
