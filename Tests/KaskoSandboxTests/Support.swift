// Shared by the sandbox's unit tests: a router driven in process, and the
// little JSON reading the assertions need.

import Foundation
import NIOCore
import NIOHTTP1
@testable import KaskoSandbox

/// One router and the generator a connection would own: requests go
/// straight to `Router.handle`, no socket and no handler in between.
struct RouterHarness {
    static let baseURL = "http://sandbox.test:8420"

    let router: Router
    var rng = FastRandom()

    init(_ configure: (inout SandboxConfig) -> Void = { _ in }) {
        var config = SandboxConfig()
        configure(&config)
        router = Router(config: config)
    }

    var config: SandboxConfig { router.config }

    mutating func send(
        _ method: HTTPMethod, _ uri: String, headers: [(String, String)] = [], body: String? = nil
    ) -> Answer {
        let request = SandboxRequest(
            method: method, uri: uri, headers: HTTPHeaders(headers), body: body.map { ByteBuffer(string: $0) })
        return Answer(router.handle(request, baseURL: Self.baseURL, rng: &rng))
    }

    var secretHeader: [(String, String)] { [("Authorization", "Bearer " + config.secretKey)] }

    /// POST /__sandbox/offers, as a test's first step: the offer's policy id and token.
    mutating func offer() -> (policyId: String, token: String) {
        let answer = send(.POST, "/__sandbox/offers")
        return (answer.string("policy_id") ?? "", answer.string("token") ?? "")
    }

    static func paymentBody(token: String, policyId: String, provider: String = "invoice", method: String? = nil)
        -> String
    {
        #"{"token":"\#(token)","provider":"\#(provider)","method":"\#(method ?? provider)","policy_id":"\#(policyId)"}"#
    }

    mutating func createPayment(
        policyId: String, token: String, provider: String = "invoice", withSecret: Bool = false
    ) -> Answer {
        send(.POST, "/payments?key=" + config.publicKey, headers: withSecret ? secretHeader : [],
             body: Self.paymentBody(token: token, policyId: policyId, provider: provider))
    }
}

/// A response, with readers for its JSON body.
struct Answer {
    let status: HTTPResponseStatus
    let body: String
    let extraHeaders: [(String, String)]

    init(_ response: SandboxResponse) {
        status = response.status
        body = response.body
        extraHeaders = response.extraHeaders
    }

    var object: [String: Any] { JSONText.object(body) ?? [:] }
    func string(_ name: String) -> String? { object[name] as? String }
    var message: String? { string("message") }
    var memberNames: [String] { JSONText.memberNames(body) }

    func header(_ name: String) -> String? {
        extraHeaders.first { $0.0.lowercased() == name.lowercased() }?.1
    }
}

enum JSONText {
    static func object(_ text: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }

    /// The top-level member names of a JSON object, in the order written:
    /// what JSONSerialization's dictionaries lose.
    static func memberNames(_ text: String) -> [String] {
        var names: [String] = []
        var depth = 0
        var inString = false
        var escaped = false
        var current = ""
        var lastString: String?
        for character in text {
            if inString {
                if escaped {
                    escaped = false
                    current.append(character)
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    inString = false
                    lastString = current
                } else {
                    current.append(character)
                }
                continue
            }
            switch character {
            case "\"":
                inString = true
                current = ""
            case "{", "[":
                depth += 1
                lastString = nil
            case "}", "]":
                depth -= 1
                lastString = nil
            case ":":
                if depth == 1, let name = lastString { names.append(name) }
                lastString = nil
            case ",":
                lastString = nil
            default:
                break
            }
        }
        return names
    }
}

/// The payment object's member lists from their one copy in the repository,
/// Tests/reference/payment-fields.json, which every language's tests read.
enum ReferenceFields {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func list(_ shape: String) -> [String] {
        let url = root.appendingPathComponent("Tests/reference/payment-fields.json")
        guard let data = try? Data(contentsOf: url),
              let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else { return [] }
        return object[shape] as? [String] ?? []
    }
}

/// Whether every character of `text` is in `alphabet`.
func consists(of alphabet: String, _ text: Substring) -> Bool {
    !text.isEmpty && text.allSatisfy { alphabet.contains($0) }
}

let lowercaseHex = "0123456789abcdef"
