import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Kasko

/// The sandbox the tests run against: `make check` starts one through
/// scripts/with-sandbox, which exports its URL and keys.
enum Sandbox {
    struct NotRunning: Error, CustomStringConvertible {
        var description: String { "KASKO_SANDBOX_URL is not set: run the tests with `make check-swift`" }
    }

    struct Offer: Sendable {
        let policyID: String
        let token: String
    }

    static func url() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["KASKO_SANDBOX_URL"] else { throw NotRunning() }
        return url
    }

    static var publicKey: String { ProcessInfo.processInfo.environment["KASKO_SANDBOX_PUBLIC_KEY"] ?? "pk_test_sandbox" }
    static var secretKey: String { ProcessInfo.processInfo.environment["KASKO_SANDBOX_SECRET_KEY"] ?? "sk_test_sandbox" }

    static func client(secret: Bool = true, maxRetries: Int = 0, baseURL: String? = nil) throws -> KaskoClient {
        var config = #"{"public_key":"\#(publicKey)","base_url":"\#(try baseURL ?? url())","max_retries":\#(maxRetries)"#
        if secret { config += #","secret_key":"\#(secretKey)""# }
        return try KaskoClient(configurationJSON: config + "}")
    }

    /// A sandbox-only endpoint, called without the library.
    static func post(_ path: String, body: String = "{}") async throws -> (Int, [String: Any]) {
        var request = URLRequest(url: URL(string: try url() + path)!)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let (data, response) = try await URLSession.shared.data(for: request)
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        return (status, (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:])
    }

    static func newOffer() async throws -> Offer {
        let (status, object) = try await post("/__sandbox/offers")
        guard status == 201 || status == 200, let policy = object["policy_id"] as? String,
              let token = object["token"] as? String else {
            throw NotRunning()
        }
        return Offer(policyID: policy, token: token)
    }

    static func settle(_ paymentID: String, status: String = "ok") async throws -> Int {
        try await post("/__sandbox/payments/\(paymentID)/settle", body: #"{"status":"\#(status)"}"#).0
    }

    /// Arms a fault for requests with fault key `key` (sandbox run with --faults).
    static func arm(_ key: String, fault: String, times: Int = 1) async throws {
        let (status, _) = try await post("/__sandbox/faults", body: #"{"key":"\#(key)","fault":\#(fault),"times":\#(times)}"#)
        guard status == 201 else { throw FaultsOff() }
    }

    struct FaultsOff: Error, CustomStringConvertible {
        var description: String { "the sandbox has no fault injection: run the tests with `make check-swift`" }
    }

    static func request(_ offer: Offer, provider: String = "invoice", token: String? = nil) throws -> PaymentRequest {
        try PaymentRequest(token: token ?? offer.token, provider: provider, method: provider, policyID: offer.policyID)
    }
}

extension PaymentJSON {
    /// The payment as a dictionary, for assertions.
    var object: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any] ?? [:]
    }

    /// The object's member names in the order they came.
    var memberNames: [String] {
        guard case .object(let members)? = try? JSONParser.parse(bytes) else { return [] }
        return members.map(\.key)
    }
}

/// The payment object's members as the reference lists them, from their
/// one copy, Tests/reference/payment-fields.json.
enum ReferenceFields {
    static func list(_ shape: String) -> [String] {
        guard let text = readFile(repositoryRoot + "/Tests/reference/payment-fields.json"),
              case .array(let names)? = (try? JSONParser.parse(text))?[shape] else { return [] }
        return names.compactMap(\.stringValue)
    }

    static var full: [String] { list("full") }
    static var restricted: [String] { list("restricted") }
}

extension Result where Failure == KaskoError {
    var error: KaskoError? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
