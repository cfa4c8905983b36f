import Foundation
import Testing
@testable import Kasko

/// The core against the real sandbox over real HTTP: every status the API
/// can answer without fault injection, and one client shared by threads.
@Suite struct SandboxTests {
    @Test func createsAndViewsAFullPayment() async throws {
        let client = try Sandbox.client()
        let offer = try await Sandbox.newOffer()
        let created = try client.createPayment(try Sandbox.request(offer)).get()
        let object = created.object
        #expect(created.memberNames == ReferenceFields.full)
        #expect(ReferenceFields.full.count == 19)
        #expect(object["object"] as? String == "payment")
        #expect(object["policy_id"] as? String == offer.policyID)
        #expect(object["livemode"] as? Bool == false)
        #expect(object["status"] as? String == "ok")
        #expect(created.id.hasPrefix("t") && created.id.count == 33)
        let links = object["_links"] as? [String: Any]
        let href = (links?["_self"] as? [String: Any])?["href"] as? String
        #expect(href == (try Sandbox.url()) + "/payments/" + created.id)

        let viewed = try client.getPayment(id: created.id).get()
        #expect(viewed.id == created.id)
        #expect(viewed.object["token"] as? String == offer.token)
    }

    @Test func aPublicKeyAloneGetsTheRestrictedObject() async throws {
        let client = try Sandbox.client(secret: false)
        let created = try client.createPayment(try Sandbox.request(try await Sandbox.newOffer())).get()
        #expect(created.memberNames == ReferenceFields.restricted)
        #expect(ReferenceFields.restricted.count == 8)
        let view = client.getPayment(id: created.id).error
        #expect(view?.status == .unauthorized)
        #expect(view?.httpStatus == 401)
    }

    @Test func aPaidPolicyAndAForeignTokenAreBadRequests() async throws {
        let client = try Sandbox.client()
        let offer = try await Sandbox.newOffer()
        let other = try await Sandbox.newOffer()
        let foreign = client.createPayment(try Sandbox.request(offer, token: other.token)).error
        #expect(foreign?.status == .badRequest)
        #expect(foreign?.outcome == .rejected)
        #expect(foreign?.json.contains(other.token) == false)

        _ = try client.createPayment(try Sandbox.request(offer)).get()
        let again = client.createPayment(try Sandbox.request(offer)).error
        #expect(again?.status == .badRequest)
        #expect(again?.statusText == "Bad Request")
        #expect(again?.requestID?.isEmpty == false)
    }

    @Test func unknownProvidersAndPaymentsAreNotFound() async throws {
        let client = try Sandbox.client()
        let provider = client.createPayment(try Sandbox.request(try await Sandbox.newOffer(), provider: "pigeon")).error
        #expect(provider?.status == .notFound)
        let payment = client.getPayment(id: "t00000000000000000000000000000000").error
        #expect(payment?.status == .notFound)
        #expect(payment?.httpStatus == 404)
        #expect(payment?.statusText == "Not Found")
    }

    @Test func aWrongKeyIsUnauthorized() async throws {
        let client = try KaskoClient(configurationJSON: #"{"public_key":"pk_test_wrong","secret_key":"sk_test_wrong","base_url":"\#(try Sandbox.url())"}"#)
        let create = client.createPayment(try Sandbox.request(try await Sandbox.newOffer())).error
        #expect(create?.status == .unauthorized)
        #expect(create?.json.contains("sk_test_wrong") == false)
        #expect(client.getPayment(id: "t1").error?.status == .unauthorized)
    }

    @Test func aPendingPaymentBlocksAnotherAndIsNamed() async throws {
        let client = try Sandbox.client()
        let offer = try await Sandbox.newOffer()
        let pending = try client.createPayment(try Sandbox.request(offer, provider: "deferred")).get()
        #expect(pending.object["status"] as? String == "pending")

        let blocked = client.createPayment(try Sandbox.request(offer, provider: "deferred")).error
        #expect(blocked?.status == .pendingPayment)
        #expect(blocked?.httpStatus == 422)
        #expect(blocked?.pendingPaymentID == pending.id)
        #expect(blocked?.json.contains(#""pending_payment_id":"\#(pending.id)""#) == true)

        #expect(try await Sandbox.settle(pending.id, status: "failed") == 200)
        // A failed payment frees the policy.
        let retried = try client.createPayment(try Sandbox.request(offer)).get()
        #expect(retried.object["status"] as? String == "ok")
    }

    @Test func nothingListeningIsANetworkErrorThatWasNotSent() throws {
        let client = try Sandbox.client(maxRetries: 2, baseURL: "http://127.0.0.1:9")
        let error = client.getPayment(id: "t1").error
        #expect(error?.status == .network)
        #expect(error?.outcome == .notSent)
        #expect(error?.attempts == 3)
        #expect(error?.httpStatus == nil)
        let create = client.createPayment(try PaymentRequest(token: "x", provider: "invoice", method: "invoice", policyID: "tpol_x")).error
        #expect(create?.outcome == .notSent)
        #expect(create?.retryable == true)
    }

    /// The statuses only a misbehaving server produces, from the sandbox's
    /// fault injection (the C suite Tests/C/test_faults.c covers every retry rule).
    @Test(arguments: [
        (#"{"status":429,"retry_after":0}"#, KaskoStatus.rateLimited, 429),
        (#"{"status":503}"#, .server, 503),
        (#"{"body":"non_json"}"#, .invalidResponse, 200),
        (#"{"body":"oversized"}"#, .invalidResponse, 200),
    ])
    func aMisbehavingServerGetsTheRightStatus(_ fault: String, _ expected: KaskoStatus, _ http: Int) async throws {
        let client = try Sandbox.client(maxRetries: 0)
        let payment = try client.createPayment(try Sandbox.request(try await Sandbox.newOffer())).get()
        try await Sandbox.arm(payment.id, fault: fault)
        let error = client.getPayment(id: payment.id).error
        #expect(error?.status == expected)
        #expect(error?.httpStatus == http)
        #expect(error?.attempts == 1)
        // The fault was armed once: the next view is answered normally.
        #expect(try client.getPayment(id: payment.id).get().id == payment.id)
    }

    @Test func oneClientServesEightThreads() async throws {
        let client = try Sandbox.client(maxRetries: 2)
        var offers: [Sandbox.Offer] = []
        for _ in 0..<100 { offers.append(try await Sandbox.newOffer()) }
        let results = ResultBox(count: offers.count)
        let done = DispatchGroup()
        for thread in 0..<8 {
            done.enter()
            let worker = Thread { [offers] in
                for index in stride(from: thread, to: offers.count, by: 8) {
                    let offer = offers[index]
                    guard let request = try? Sandbox.request(offer),
                          case .success(let created) = client.createPayment(request),
                          case .success(let viewed) = client.getPayment(id: created.id) else { continue }
                    results.set(index, viewed.id == created.id && viewed.object["policy_id"] as? String == offer.policyID)
                }
                done.leave()
            }
            worker.start()
        }
        done.wait()
        #expect(results.trueCount == 100, "\(results.trueCount) of 100 create+get pairs correct")
    }
}

/// Results written by many threads.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Bool]

    init(count: Int) { values = Array(repeating: false, count: count) }

    func set(_ index: Int, _ value: Bool) { lock.withLock { values[index] = value } }

    var trueCount: Int { lock.withLock { values.filter { $0 }.count } }
}
