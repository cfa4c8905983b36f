// The API endpoints, POST /payments and GET /payments/{id}, through
// Router.handle alone: statuses, bodies and store effects as the reference
// describes them.

import Foundation
import NIOHTTP1
import Testing
@testable import KaskoSandbox

@Suite struct CreatePaymentTests {
    @Test func invoiceWithOnlyThePublicKeyIsSettledAndRestricted() {
        var sandbox = RouterHarness()
        let offer = sandbox.offer()
        let answer = sandbox.createPayment(policyId: offer.policyId, token: offer.token)

        #expect(answer.status == .ok)
        #expect(answer.memberNames == ReferenceFields.list("restricted"))
        #expect(answer.string("object") == "payment")
        #expect(answer.string("provider") == "invoice")
        #expect(answer.string("method") == "invoice")
        #expect(answer.string("status") == "ok")
        #expect(answer.object["livemode"] as? Bool == false)
        #expect(answer.object["policy_id"] == nil)
        #expect(answer.object["token"] == nil)
        let id = answer.string("id") ?? ""
        #expect(id.hasPrefix("t") && id.count == 33 && consists(of: lowercaseHex, id.dropFirst()))
        let links = answer.object["_links"] as? [String: Any]
        let selfLink = links?["_self"] as? [String: Any]
        #expect(selfLink?["href"] as? String == RouterHarness.baseURL + "/payments/" + id)
    }

    @Test func withTheSecretKeyTheFullObjectComesBack() {
        var sandbox = RouterHarness()
        let offer = sandbox.offer()
        let answer = sandbox.createPayment(policyId: offer.policyId, token: offer.token, withSecret: true)

        #expect(answer.status == .ok)
        #expect(answer.memberNames == ReferenceFields.list("full"))
        #expect(!ReferenceFields.list("full").isEmpty)
        #expect(answer.string("policy_id") == offer.policyId)
        #expect(answer.string("token") == offer.token)
        #expect(answer.object["fee"] as? Int == 0)
        #expect(answer.object["error_code"] is NSNull)
        #expect(answer.object["metadata"] as? [Any] != nil)
        let processedAt = answer.string("processed_at") ?? ""
        #expect(processedAt.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/) != nil)
    }

    @Test func theStoredPaymentIsTheOneViewed() {
        var sandbox = RouterHarness()
        let offer = sandbox.offer()
        let created = sandbox.createPayment(policyId: offer.policyId, token: offer.token, withSecret: true)
        let id = created.string("id") ?? ""
        let viewed = sandbox.send(.GET, "/payments/" + id, headers: sandbox.secretHeader)

        #expect(viewed.status == .ok)
        #expect(viewed.body == created.body)
    }

    @Test func deferredStaysPendingAndBlocksASecondPaymentWith422() {
        var sandbox = RouterHarness()
        let offer = sandbox.offer()
        let first = sandbox.createPayment(policyId: offer.policyId, token: offer.token, provider: "deferred",
                                          withSecret: true)
        #expect(first.status == .ok)
        #expect(first.string("status") == "pending")
        #expect(first.string("method") == "deferred")
        #expect(first.object["processed_at"] is NSNull)
        let pendingId = first.string("id") ?? ""

        // Any provider: the pending payment is the policy's, not the provider's.
        for provider in ["deferred", "invoice"] {
            let second = sandbox.createPayment(policyId: offer.policyId, token: offer.token, provider: provider)
            #expect(second.status == .unprocessableEntity)
            #expect(second.string("status") == "Unprocessable Entity")
            #expect(second.message == "Policy - \(offer.policyId) already has pending payment - \(pendingId).")
        }
    }

    @Test func aPaidPolicyRefusesAnotherPaymentWith400() {
        var sandbox = RouterHarness()
        let offer = sandbox.offer()
        #expect(sandbox.createPayment(policyId: offer.policyId, token: offer.token).status == .ok)
        let again = sandbox.createPayment(policyId: offer.policyId, token: offer.token)
        #expect(again.status == .badRequest)
        #expect(again.body == #"{"status":"Bad Request","message":"Policy - \#(offer.policyId) is already paid."}"#)
    }

    @Test func unknownPolicyAndWrongToken() {
        var sandbox = RouterHarness()
        let offer = sandbox.offer()
        let unknown = sandbox.createPayment(policyId: "tpol_nope", token: offer.token)
        #expect(unknown.status == .badRequest)
        #expect(unknown.message == "Policy - tpol_nope could not be found.")

        let mismatch = sandbox.createPayment(policyId: offer.policyId, token: "ptok_other")
        #expect(mismatch.status == .badRequest)
        #expect(mismatch.message == "The token is not valid for policy - \(offer.policyId).")
        // Refusals leave the policy payable.
        #expect(sandbox.createPayment(policyId: offer.policyId, token: offer.token).status == .ok)
    }

    @Test func unknownProviderIs404AndAForeignMethod400() {
        var sandbox = RouterHarness()
        let offer = sandbox.offer()
        let key = "/payments?key=" + sandbox.config.publicKey
        let unknown = sandbox.send(.POST, key, body: RouterHarness.paymentBody(
            token: offer.token, policyId: offer.policyId, provider: "card"))
        #expect(unknown.status == .notFound)
        #expect(unknown.body == #"{"status":"Not Found","message":"Payment provider could not be identified."}"#)

        let foreign = sandbox.send(.POST, key, body: RouterHarness.paymentBody(
            token: offer.token, policyId: offer.policyId, provider: "deferred", method: "invoice"))
        #expect(foreign.status == .badRequest)
        #expect(foreign.message == "The payment method invoice is not supported by the deferred provider.")
    }

    @Test(arguments: [
        ("", "The request body must be a JSON object."),
        ("not json", "The request body must be a JSON object."),
        ("[1,2]", "The request body must be a JSON object."),
        (#""text""#, "The request body must be a JSON object."),
        (#"{}"#, "The token field is required."),
        (#"{"token":null}"#, "The token field is required."),
        (#"{"token":""}"#, "The token field is required."),
        (#"{"token":7}"#, "The token field must be a string."),
        (#"{"token":true}"#, "The token field must be a string."),
        (#"{"token":"t"}"#, "The provider field is required."),
        (#"{"token":"t","provider":["invoice"]}"#, "The provider field must be a string."),
        (#"{"token":"t","provider":"invoice"}"#, "The method field is required."),
        (#"{"token":"t","provider":"invoice","method":"invoice"}"#, "The policy_id field is required."),
        (#"{"token":"t","provider":"invoice","method":"invoice","policy_id":{}}"#,
         "The policy_id field must be a string."),
    ])
    func validationInTheReferencesFieldOrder(body: String, message: String) {
        var sandbox = RouterHarness()
        let answer = sandbox.send(.POST, "/payments?key=" + sandbox.config.publicKey, body: body)
        #expect(answer.status == .badRequest)
        #expect(answer.string("status") == "Bad Request")
        #expect(answer.message == message)
    }

    @Test(arguments: [
        ("/payments", [(String, String)]()),
        ("/payments?key=", []),
        ("/payments?key=pk_test_other", []),
        ("/payments?KEY=pk_test_sandbox", []),
        ("/payments?key=pk_test_sandbox", [("Authorization", "Bearer sk_test_other")]),
        ("/payments?key=pk_test_sandbox", [("Authorization", "Basic c2tfdGVzdF9zYW5kYm94Og==")]),
        ("/payments?key=pk_test_sandbox", [("Authorization", "sk_test_sandbox")]),
        ("/payments?key=pk_test_sandbox",
         [("Authorization", "Bearer sk_test_sandbox"), ("Authorization", "Bearer sk_test_sandbox")]),
    ])
    func refusedCredentialsAre401BeforeTheBodyIsLookedAt(uri: String, headers: [(String, String)]) {
        var sandbox = RouterHarness()
        let offer = sandbox.offer()
        let answer = sandbox.send(.POST, uri, headers: headers,
                                  body: RouterHarness.paymentBody(token: offer.token, policyId: offer.policyId))
        #expect(answer.status == .unauthorized)
        #expect(answer.body == #"{"status":"Unauthorized","message":"Not authorized for policy purchase."}"#)
        // Nothing was bought.
        #expect(sandbox.createPayment(policyId: offer.policyId, token: offer.token).status == .ok)
    }

    @Test func theKeyMayBePercentEncodedAndAmongOtherParameters() {
        var sandbox = RouterHarness()
        let offer = sandbox.offer()
        let answer = sandbox.send(
            .POST, "/payments?lang=en&key=pk%5Ftest%5Fsandbox&key=ignored#fragment",
            body: RouterHarness.paymentBody(token: offer.token, policyId: offer.policyId))
        #expect(answer.status == .ok)
    }

    @Test func absoluteFormTargetsAsProxiesSendThem() {
        var sandbox = RouterHarness()
        let offer = sandbox.offer()
        let answer = sandbox.send(
            .POST, "http://api.example/payments?key=pk_test_sandbox",
            body: RouterHarness.paymentBody(token: offer.token, policyId: offer.policyId))
        #expect(answer.status == .ok)
    }

    @Test func customKeysAndLiveMode() {
        var sandbox = RouterHarness {
            $0.publicKey = "pk_live_abc"
            $0.secretKey = "sk_live_abc"
        }
        let offer = sandbox.offer()
        #expect(offer.policyId.hasPrefix("lpol_"))
        let refused = sandbox.send(.POST, "/payments?key=pk_test_sandbox",
                                   body: RouterHarness.paymentBody(token: offer.token, policyId: offer.policyId))
        #expect(refused.status == .unauthorized)
        let answer = sandbox.createPayment(policyId: offer.policyId, token: offer.token, withSecret: true)
        #expect(answer.status == .ok)
        #expect(answer.object["livemode"] as? Bool == true)
        let id = answer.string("id") ?? ""
        #expect(id.hasPrefix("l") && id.count == 33)
    }

    @Test func everyPaymentOfAPolicyShowsItsOneCustomer() {
        var sandbox = RouterHarness()
        let offer = sandbox.offer()
        let first = sandbox.createPayment(policyId: offer.policyId, token: offer.token, provider: "deferred",
                                          withSecret: true)
        let firstId = first.string("id") ?? ""
        _ = sandbox.send(.POST, "/__sandbox/payments/\(firstId)/settle", body: #"{"status":"failed"}"#)
        let second = sandbox.createPayment(policyId: offer.policyId, token: offer.token, withSecret: true)
        #expect(second.status == .ok)
        #expect(second.string("id") != firstId)
        #expect(second.string("customer_id") == first.string("customer_id"))
        #expect(!(first.string("customer_id") ?? "").isEmpty)

        let other = sandbox.offer()
        let third = sandbox.createPayment(policyId: other.policyId, token: other.token, withSecret: true)
        #expect(third.string("customer_id") != first.string("customer_id"))
    }
}

@Suite struct ViewPaymentTests {
    @Test(arguments: [
        [(String, String)](),
        [("Authorization", "Bearer sk_test_other")],
        [("Authorization", "Bearer pk_test_sandbox")],
        [("Authorization", "Bearer sk_test_sandbox ")],
        [("Authorization", "Bearer sk_test_sandbox"), ("Authorization", "Bearer sk_test_sandbox")],
    ])
    func withoutTheSecretKeyIs401(headers: [(String, String)]) {
        var sandbox = RouterHarness()
        let offer = sandbox.offer()
        let id = sandbox.createPayment(policyId: offer.policyId, token: offer.token).string("id") ?? ""
        let answer = sandbox.send(.GET, "/payments/" + id, headers: headers)
        #expect(answer.status == .unauthorized)
        #expect(answer.body == #"{"status":"Unauthorized","message":"Not authorized."}"#)
    }

    @Test func anUnknownPaymentIs404AsInTheReference() {
        var sandbox = RouterHarness()
        let answer = sandbox.send(.GET, "/payments/t84223322f013e2287210b6295010fc6a", headers: sandbox.secretHeader)
        #expect(answer.status == .notFound)
        #expect(answer.body == #"{"status":"Not Found"}"#)
    }

    @Test func authenticationComesBeforeExistence() {
        var sandbox = RouterHarness()
        #expect(sandbox.send(.GET, "/payments/t0").status == .unauthorized)
    }

    @Test func aPaymentOfAnotherSandboxIsNotFound() {
        var first = RouterHarness()
        var second = RouterHarness()
        let offer = first.offer()
        let id = first.createPayment(policyId: offer.policyId, token: offer.token).string("id") ?? ""
        #expect(first.send(.GET, "/payments/" + id, headers: first.secretHeader).status == .ok)
        #expect(second.send(.GET, "/payments/" + id, headers: second.secretHeader).status == .notFound)
    }
}

@Suite struct RoutingTests {
    @Test(arguments: [
        ("/", HTTPMethod.GET),
        ("/payment", .POST),
        ("/payments/", .GET),
        ("/payments/a/b", .GET),
        ("//payments", .POST),
        ("payments", .POST),
        ("/__sandbox", .GET),
        ("/__sandbox/", .GET),
        ("/__sandbox/nothing", .GET),
        ("/__sandbox/payments/t1/cancel", .POST),
        ("/__sandbox/payments//settle", .POST),
    ])
    func unknownPathsAre404(uri: String, method: HTTPMethod) {
        var sandbox = RouterHarness()
        let answer = sandbox.send(method, uri)
        #expect(answer.status == .notFound)
        #expect(answer.body == #"{"status":"Not Found"}"#)
        #expect(answer.header("Allow") == nil)
    }

    @Test(arguments: [
        ("/payments", HTTPMethod.GET, "POST"),
        ("/payments", .PUT, "POST"),
        ("/payments/t1", .POST, "GET"),
        ("/payments/t1", .DELETE, "GET"),
        ("/payments/t1", .HEAD, "GET"),
        ("/__sandbox/offers", .GET, "POST"),
        ("/__sandbox/health", .POST, "GET"),
        ("/__sandbox/connections", .DELETE, "GET"),
        ("/__sandbox/payments/t1/settle", .GET, "POST"),
    ])
    func aKnownPathWithAnotherMethodIs405WithAllow(uri: String, method: HTTPMethod, allow: String) {
        var sandbox = RouterHarness()
        let answer = sandbox.send(method, uri)
        #expect(answer.status == .methodNotAllowed)
        #expect(answer.body == #"{"status":"Method Not Allowed"}"#)
        #expect(answer.header("Allow") == allow)
    }

    @Test func aWrongMethodIsRefusedBeforeCredentials() {
        var sandbox = RouterHarness()
        #expect(sandbox.send(.DELETE, "/payments/t1").status == .methodNotAllowed)
    }
}
