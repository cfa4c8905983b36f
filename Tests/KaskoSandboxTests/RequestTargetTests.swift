// How request targets are split and routed, pinned on the awkward ones:
// the split runs on bytes for printable-ASCII targets and on Characters
// otherwise, and the two must route every target as before.

import NIOHTTP1
import Testing
@testable import KaskoSandbox

@Suite struct RequestTargetTests {
    static let targets: [String] = [
        "/__sandbox/health", "/__sandbox/health/", "//__sandbox/health", "/__sandbox//health",
        "/__sandbox/health?x=1", "/__sandbox/health#frag", "/__sandbox/health?x#y", "/__sandbox/health#x?y",
        "http://h.test/__sandbox/health", "http://h.test:1/__sandbox/health?q", "http://h.test",
        "http://h.test?/__sandbox/health", "https://h.test/payments/tabc", "h.test/__sandbox/health",
        "__sandbox/health", "", "/", "?", "#", "/payments", "/payments/", "/payments/tabc", "/payments/tabc/",
        "/payments//", "/payments/tabc?key=1", "/payments/t%41bc", "/quotes", "/quotes/x", "/policies",
        "/policies/tpol_x", "/offers", "/offers/tpol_x", "/offers/tpol_x/y", "/PAYMENTS/tabc", "/paymentsx",
        "/__sandbox/stats", "/__sandbox/offers", "/__sandbox/offers/x/approve", "/__sandbox/policies/x/payments",
        "/__sandbox/webhooks/deliveries", "/__sandbox/connections", "/__sandbox/payments/x/settle",
        "/__sandbox/faults", "/__sandbox/attempts/k",
        // Not printable ASCII: Character semantics, where a combining mark
        // joins the slash, hash or question mark before it.
        "/payments/t\u{301}", "/payments/\u{301}t", "/__sandbox/health#\u{301}", "/__sandbox/health?\u{301}",
        "/payments\u{301}/t", "/__sandbox/health\u{301}", "/payments/té", "/__sandbox/health x", "/payments/t\t",
        "http://h\u{301}/__sandbox/health", "http:/\u{301}/h/__sandbox/health",
    ]

    /// GET status, POST status, whether the target is an API route (what
    /// --response-delay-ms delays), GET body: as the Character-based split
    /// gave them, one row per target.
    static let expected: [(get: UInt, post: UInt, isAPI: Bool, body: String)] = [
        (200, 405, false, #"{"status":"ok"}"#),
        (404, 404, false, #"{"status":"Not Found"}"#),
        (404, 404, false, #"{"status":"Not Found"}"#),
        (404, 404, false, #"{"status":"Not Found"}"#),
        (200, 405, false, #"{"status":"ok"}"#),
        (200, 405, false, #"{"status":"ok"}"#),
        (200, 405, false, #"{"status":"ok"}"#),
        (200, 405, false, #"{"status":"ok"}"#),
        (200, 405, false, #"{"status":"ok"}"#),
        (200, 405, false, #"{"status":"ok"}"#),
        (404, 404, false, #"{"status":"Not Found"}"#),
        (200, 405, false, #"{"status":"ok"}"#),
        (401, 405, true, #"{"status":"Unauthorized","message":"Not authorized."}"#),
        (404, 404, false, #"{"status":"Not Found"}"#),
        (404, 404, false, #"{"status":"Not Found"}"#),
        (404, 404, false, #"{"status":"Not Found"}"#),
        (404, 404, false, #"{"status":"Not Found"}"#),
        (404, 404, false, #"{"status":"Not Found"}"#),
        (404, 404, false, #"{"status":"Not Found"}"#),
        (405, 401, true, #"{"status":"Method Not Allowed"}"#),
        (404, 404, true, #"{"status":"Not Found"}"#),
        (401, 405, true, #"{"status":"Unauthorized","message":"Not authorized."}"#),
        (404, 404, true, #"{"status":"Not Found"}"#),
        (404, 404, true, #"{"status":"Not Found"}"#),
        (401, 405, true, #"{"status":"Unauthorized","message":"Not authorized."}"#),
        (401, 405, true, #"{"status":"Unauthorized","message":"Not authorized."}"#),
        (405, 401, true, #"{"status":"Method Not Allowed"}"#),
        (404, 404, true, #"{"status":"Not Found"}"#),
        (405, 401, true, #"{"status":"Method Not Allowed"}"#),
        (401, 405, true, #"{"status":"Unauthorized","message":"Not authorized."}"#),
        (404, 404, true, #"{"status":"Not Found"}"#),
        (401, 405, true, #"{"status":"Unauthorized","message":"Not authorized."}"#),
        (404, 404, true, #"{"status":"Not Found"}"#),
        (404, 404, false, #"{"status":"Not Found"}"#),
        (404, 404, false, #"{"status":"Not Found"}"#),
        (200, 405, false, #"{"quotes":0,"offers":0,"payments":0,"policies_paid":0,"webhook_deliveries":0}"#),
        (405, 201, false, #"{"status":"Method Not Allowed"}"#),
        (405, 404, false, #"{"status":"Method Not Allowed"}"#),
        (404, 405, false, #"{"status":"Not Found","message":"Policy - x could not be found."}"#),
        (200, 405, false, #"{"deliveries":[]}"#),
        (200, 405, false, #"{"accepted":0}"#),
        (405, 404, false, #"{"status":"Method Not Allowed"}"#),
        (404, 404, false, #"{"status":"Not Found"}"#),
        (404, 404, false, #"{"status":"Not Found"}"#),
        (401, 405, true, #"{"status":"Unauthorized","message":"Not authorized."}"#),
        (404, 404, false, #"{"status":"Not Found"}"#),
        (404, 404, false, #"{"status":"Not Found"}"#),
        (404, 404, false, #"{"status":"Not Found"}"#),
        (404, 404, false, #"{"status":"Not Found"}"#),
        (404, 404, false, #"{"status":"Not Found"}"#),
        (401, 405, true, #"{"status":"Unauthorized","message":"Not authorized."}"#),
        (404, 404, false, #"{"status":"Not Found"}"#),
        (401, 405, true, #"{"status":"Unauthorized","message":"Not authorized."}"#),
        (200, 405, false, #"{"status":"ok"}"#),
        (404, 404, false, #"{"status":"Not Found"}"#),
    ]

    @Test func everyTargetRoutesAsBefore() {
        #expect(Self.targets.count == Self.expected.count)
        var sandbox = RouterHarness()
        for (target, expected) in zip(Self.targets, Self.expected) {
            let get = sandbox.send(.GET, target)
            let post = sandbox.send(.POST, target)
            #expect(get.status.code == expected.get, "GET \(target)")
            #expect(post.status.code == expected.post, "POST \(target)")
            #expect(Array(get.body.utf8) == Array(expected.body.utf8), "GET \(target)")
            #expect(Router.faultTarget(method: .GET, uri: target).isAPI == expected.isAPI, "\(target)")
            // What the server delays on: handle's own reading of the target.
            let request = SandboxRequest(method: .GET, uri: target, headers: [:], body: nil)
            #expect(sandbox.router.handle(request, baseURL: RouterHarness.baseURL, rng: &sandbox.rng).isAPI
                == expected.isAPI, "\(target)")
        }
    }

    static let faultTargets = [
        "/__sandbox/faults", "/__sandbox/faults/k%41", "/__sandbox/faults/", "/__sandbox/attempts",
        "/__sandbox/attempts/k%41", "/__sandbox/attempts/k\u{301}", "/__sandbox/attempts/", "/__sandbox/attempts/k/x",
    ]
    /// GET status, DELETE status, GET body, with --faults.
    static let faultExpected: [(get: UInt, delete: UInt, body: String)] = [
        (405, 200, #"{"status":"Method Not Allowed"}"#),
        (405, 200, #"{"status":"Method Not Allowed"}"#),
        (404, 404, #"{"status":"Not Found"}"#),
        (405, 200, #"{"status":"Method Not Allowed"}"#),
        (200, 200, #"{"key":"kA","attempts":0}"#),
        (200, 200, #"{"key":"ḱ","attempts":0}"#),
        (404, 404, #"{"status":"Not Found"}"#),
        (404, 404, #"{"status":"Not Found"}"#),
    ]

    @Test func theFaultEndpointsRouteAsBefore() {
        var sandbox = RouterHarness { $0.faults = true }
        #expect(Self.faultTargets.count == Self.faultExpected.count)
        for (target, expected) in zip(Self.faultTargets, Self.faultExpected) {
            #expect(sandbox.send(.GET, target).status.code == expected.get, "GET \(target)")
            #expect(sandbox.send(.DELETE, target).status.code == expected.delete, "DELETE \(target)")
            #expect(Array(sandbox.send(.GET, target).body.utf8) == Array(expected.body.utf8), "GET \(target)")
        }
    }

    static let keyedTargets = [
        "/payments/t%41bc", "/payments/t\u{301}", "/offers/x%2Fy", "/policies/%zz", "/payments", "/quotes",
        "/policies", "/payments/x/y", "http://h/offers/o?x#y",
    ]
    /// faultTarget and faultRoute of each keyed target for GET, POST, DELETE.
    static let keyedExpected = [
        #"view(key: "tAbc") Optional(KaskoSandbox.FaultRoute.paymentView)"#,
        #"otherAPI nil"#,
        #"otherAPI nil"#,
        #"view(key: "t́") Optional(KaskoSandbox.FaultRoute.paymentView)"#,
        #"otherAPI nil"#,
        #"otherAPI nil"#,
        #"view(key: "x/y") Optional(KaskoSandbox.FaultRoute.offerView)"#,
        #"otherAPI nil"#,
        #"otherAPI nil"#,
        #"view(key: "%zz") Optional(KaskoSandbox.FaultRoute.policyView)"#,
        #"otherAPI nil"#,
        #"otherAPI nil"#,
        #"otherAPI nil"#,
        #"create Optional(KaskoSandbox.FaultRoute.paymentCreate)"#,
        #"otherAPI nil"#,
        #"otherAPI nil"#,
        #"create Optional(KaskoSandbox.FaultRoute.quoteCreate)"#,
        #"otherAPI nil"#,
        #"otherAPI nil"#,
        #"create Optional(KaskoSandbox.FaultRoute.offerCreate)"#,
        #"otherAPI nil"#,
        #"otherAPI nil"#,
        #"otherAPI nil"#,
        #"otherAPI nil"#,
        #"view(key: "o") Optional(KaskoSandbox.FaultRoute.offerView)"#,
        #"otherAPI nil"#,
        #"otherAPI nil"#,
    ]

    @Test func faultKeysAndRoutesAreAsBefore() {
        var seen: [String] = []
        for target in Self.keyedTargets {
            for method in [HTTPMethod.GET, .POST, .DELETE] {
                seen.append("\(Router.faultTarget(method: method, uri: target)) "
                    + String(describing: Router.faultRoute(method: method, uri: target)))
            }
        }
        #expect(seen.map { Array($0.utf8) } == Self.keyedExpected.map { Array($0.utf8) })
    }
}
