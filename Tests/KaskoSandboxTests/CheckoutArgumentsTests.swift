// The checkout's options (contract 14): --policy-delay-ms and the webhook
// options, accepted forms and every refusal, none echoing a value.

import Testing
@testable import KaskoSandbox

@Suite struct CheckoutArgumentsTests {
    static let secret = "whsec_unit_secret"

    @Test func defaults() {
        let defaults = SandboxConfig()
        #expect(defaults.policyDelayMs == 200)
        #expect(defaults.webhookBackoffMs == 1000)
        #expect(defaults.webhookAttempts == 6)
        #expect(defaults.webhookTarget == nil && defaults.webhookSecret == nil)
    }

    @Test func webhookOptionsTogether() {
        let parsed = ParsedArguments.parse([
            "--webhook-url", "http://127.0.0.1:8099/hooks?x=1", "--webhook-secret=" + Self.secret,
            "--webhook-backoff-ms", "25", "--webhook-attempts=3", "--policy-delay-ms", "0",
        ])
        guard case .run(let config) = parsed else {
            Issue.record("refused")
            return
        }
        #expect(config.webhookTarget == WebhookTarget(secure: false, host: "127.0.0.1", port: 8099,
                                                      target: "/hooks?x=1"))
        #expect(config.webhookSecret == Self.secret)
        #expect(config.webhookBackoffMs == 25)
        #expect(config.webhookAttempts == 3)
        #expect(config.policyDelayMs == 0)
    }

    @Test(arguments: [
        (["--webhook-secret", secret], "--webhook-secret needs --webhook-url"),
        (["--webhook-url", "http://h/"], "--webhook-url needs --webhook-secret"),
        (["--webhook-url", "mailto:x@y", "--webhook-secret", secret], "--webhook-url must be"),
        (["--webhook-url", "http://:80/", "--webhook-secret", secret], "--webhook-url must be"),
        (["--webhook-url", "http://u:\(secret)@h/", "--webhook-secret", secret], "--webhook-url must be"),
        (["--webhook-url", "http://h:65536/", "--webhook-secret", secret], "--webhook-url must be"),
        (["--webhook-url", "http://h/#frag", "--webhook-secret", secret], "--webhook-url must be"),
        (["--webhook-url", "http://h/", "--webhook-secret", ""], "--webhook-secret must not be empty"),
        (["--webhook-url", "http://h/", "--webhook-secret"], "--webhook-secret needs a value"),
        (["--webhook-backoff-ms", "0"], "--webhook-backoff-ms must be"),
        (["--webhook-backoff-ms", "3600001"], "--webhook-backoff-ms must be"),
        (["--webhook-backoff-ms", "x"], "--webhook-backoff-ms must be"),
        (["--webhook-attempts", "0"], "--webhook-attempts must be"),
        (["--webhook-attempts", "101"], "--webhook-attempts must be"),
        (["--webhook-attempts", "2.0"], "--webhook-attempts must be"),
        (["--policy-delay-ms", "-5"], "--policy-delay-ms must be"),
        (["--policy-delay-ms", "600001"], "--policy-delay-ms must be"),
        (["--policy-delay-ms", ""], "--policy-delay-ms must be"),
    ])
    func refusals(arguments: [String], message: String) {
        guard case .invalid(let text) = ParsedArguments.parse(arguments) else {
            Issue.record("accepted \(arguments.count) arguments")
            return
        }
        #expect(text.hasPrefix(message), "\(text)")
        #expect(!text.contains(Self.secret))
    }

    @Test func theUsageNamesTheCheckout() {
        for word in ["--webhook-url URL", "--webhook-secret SECRET", "--webhook-backoff-ms N", "--webhook-attempts N",
                     "--policy-delay-ms N", "POST /quotes?key=", "POST /policies?key=", "GET  /offers/{id}",
                     "GET  /policies/{id}", "/__sandbox/offers/{id}/approve", "/__sandbox/policies/{id}/payments",
                     "/__sandbox/stats", "/__sandbox/webhooks/deliveries", Catalog.travelIntegration,
                     Catalog.travelItem, Catalog.Plan.single.rawValue, Catalog.Plan.annual.rawValue,
                     Catalog.buildingIntegration, "policy_view"] {
            #expect(ParsedArguments.usage.contains(word), "usage lacks \(word)")
        }
        // The usage is printed as is: no line wider than a terminal.
        for line in ParsedArguments.usage.split(separator: "\n") {
            #expect(line.count <= 90, "\(line)")
        }
    }

    @Test(arguments: [
        ("http://example.com", WebhookTarget(secure: false, host: "example.com", port: 80, target: "/")),
        ("HTTPS://example.com?x", WebhookTarget(secure: true, host: "example.com", port: 443, target: "/?x")),
        ("http://[::1]:81/a/b", WebhookTarget(secure: false, host: "::1", port: 81, target: "/a/b")),
    ])
    func webhookTargets(url: String, target: WebhookTarget) {
        #expect(WebhookTarget.parse(url) == target)
    }

    @Test func hostHeaderNamesNonDefaultPorts() {
        #expect(WebhookTarget.parse("http://h/")?.hostHeader == "h")
        #expect(WebhookTarget.parse("http://h:8080/")?.hostHeader == "h:8080")
        #expect(WebhookTarget.parse("http://[::1]:9/")?.hostHeader == "[::1]:9")
    }
}
