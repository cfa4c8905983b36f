// The exact text of the payment object and the error shape, byte for byte:
// the renderer is hand-written for speed, and clients (and the reference
// comparison) see these bytes, so no rewrite of it may change one.

import Testing
@testable import KaskoSandbox

/// String's == is canonical equivalence: bytes are what is pinned.
private func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

@Suite struct PaymentBytesTests {
    /// Every kind of character the escaping treats apart: quote, backslash,
    /// the named and the \u-escaped controls, DEL (not escaped), non-ASCII
    /// (passed through) and a combining mark right after a quote.
    static let awkward = "a\"b\\c\nd\re\tf\u{1}g\u{1F}h\u{7F}ié€😀\"\u{301}/"
    static let awkwardJSON = #"a\"b\\c\nd\re\tf\u0001g\u001fh"# + "\u{7F}ié€😀" + #"\""# + "\u{301}/"

    static func payment(id: String, token: String, processedAt: String?, errorCode: String?,
                        status: PaymentStatus = .ok, livemode: Bool = false) -> Payment {
        Payment(id: id, livemode: livemode, provider: "invoice", method: "invoice", status: status,
                policyId: "tpol_" + awkward, token: token, processedAt: processedAt, errorCode: errorCode,
                customerId: "cus\u{0}\u{8}\u{C}x")
    }

    @Test func theFullObjectIsPinned() {
        let payment = Self.payment(id: "t0123", token: Self.awkward, processedAt: "2026-11-25T10:50:30Z",
                                   errorCode: nil)
        let expected = #"{"object":"payment","id":"t0123","livemode":false,"provider":"invoice","method":"invoice","#
            + #""status":"ok","policy_id":"tpol_"# + Self.awkwardJSON + #"","charge_id":null,"fee":0,"#
            + #""reference":null,"token":""# + Self.awkwardJSON + #"","reason":null,"#
            + #""processed_at":"2026-11-25T10:50:30Z","error_code":null,"metadata":[],"#
            + #""transaction_metadata":[],"customer_id":"cus\u0000\u0008\u000cx","refunds":[],"#
            + #""_links":{"_self":{"href":"http://h.test:1/payments/t0123"}}}"#
        #expect(utf8(PaymentObject.full(payment, baseURL: "http://h.test:1")) == utf8(expected))
    }

    @Test func escapesInTheIdReachTheLinkToo() {
        let payment = Self.payment(id: Self.awkward, token: "ptok", processedAt: nil, errorCode: "payment_failed",
                                   status: .failed, livemode: true)
        let expected = #"{"object":"payment","id":""# + Self.awkwardJSON + #"","livemode":true,"#
            + #""provider":"invoice","method":"invoice","status":"failed","policy_id":"tpol_"# + Self.awkwardJSON
            + #"","charge_id":null,"fee":0,"reference":null,"token":"ptok","reason":null,"#
            + #""processed_at":null,"error_code":"payment_failed","metadata":[],"transaction_metadata":[],"#
            + #""customer_id":"cus\u0000\u0008\u000cx","refunds":[],"#
            + #""_links":{"_self":{"href":"http://[::1]:8\"/payments/"# + Self.awkwardJSON + #""}}}"#
        #expect(utf8(PaymentObject.full(payment, baseURL: "http://[::1]:8\"")) == utf8(expected))
    }

    @Test func theRestrictedObjectIsPinned() {
        let payment = Self.payment(id: "t\u{1}é", token: "ptok", processedAt: nil, errorCode: nil,
                                   status: .pending)
        let expected = #"{"object":"payment","id":"t\u0001"# + "é" + #"","livemode":false,"provider":"invoice","#
            + #""method":"invoice","status":"pending","transaction_metadata":[],"#
            + #""_links":{"_self":{"href":"http://h.test:1/payments/t\u0001"# + "é" + #""}}}"#
        #expect(utf8(PaymentObject.restricted(payment, baseURL: "http://h.test:1")) == utf8(expected))
    }

    @Test func theErrorShapeIsPinned() {
        #expect(utf8(JSON.error(status: "Not Found")) == utf8(#"{"status":"Not Found"}"#))
        #expect(utf8(JSON.error(status: "Bad Request", message: Self.awkward))
            == utf8(#"{"status":"Bad Request","message":""# + Self.awkwardJSON + #""}"#))
    }

    /// Through the router, as a client sees it: the view of a created payment.
    @Test func aViewedPaymentIsTheRenderedObject() throws {
        var sandbox = RouterHarness()
        let offer = sandbox.offer()
        let created = sandbox.createPayment(policyId: offer.policyId, token: offer.token, withSecret: true)
        let id = try #require(created.string("id"))
        let viewed = sandbox.send(.GET, "/payments/" + id, headers: sandbox.secretHeader)
        let stored = try #require(sandbox.router.store.payment(id: id))
        #expect(utf8(viewed.body) == utf8(PaymentObject.full(stored, baseURL: RouterHarness.baseURL)))
        #expect(viewed.body.hasPrefix(#"{"object":"payment","id":""# + id + #"","livemode":false,"#))
        #expect(viewed.body.hasSuffix(#""_links":{"_self":{"href":""# + RouterHarness.baseURL + "/payments/" + id
            + #""}}}"#))
    }
}
