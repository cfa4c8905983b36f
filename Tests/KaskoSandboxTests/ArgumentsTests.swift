// The command line (docs/man/kasko-sandbox.1): what each option accepts,
// and that every refusal is a message, never an echo of a value.

import Testing
@testable import KaskoSandbox

private func config(_ change: (inout SandboxConfig) -> Void) -> ParsedArguments {
    var config = SandboxConfig()
    change(&config)
    return .run(config)
}

@Suite struct ArgumentsTests {
    @Test func defaults() {
        let defaults = SandboxConfig()
        #expect(ParsedArguments.parse([]) == .run(defaults))
        #expect(defaults.host == "127.0.0.1")
        #expect(defaults.port == 8420)
        #expect(defaults.publicKey == "pk_test_sandbox")
        #expect(defaults.secretKey == "sk_test_sandbox")
        #expect(!defaults.faults)
        #expect(defaults.randomFaultProbability == 0)
        #expect(!defaults.livemode)
    }

    @Test(arguments: [
        (["--port", "0"], config { $0.port = 0 }),
        (["--port=0"], config { $0.port = 0 }),
        (["--port", "65535"], config { $0.port = 65535 }),
        (["--host", "0.0.0.0"], config { $0.host = "0.0.0.0" }),
        (["--host", "::1"], config { $0.host = "::1" }),
        (["--host=[::1]"], config { $0.host = "::1" }),
        (["--public-key", "pk_live_x"], config { $0.publicKey = "pk_live_x" }),
        (["--secret-key=sk_x=y"], config { $0.secretKey = "sk_x=y" }),
        (["--faults"], config { $0.faults = true }),
        (["--faults", "--random-faults", "0.25"], config {
            $0.faults = true
            $0.randomFaultProbability = 0.25
        }),
        // Order does not matter: the check is made after all options.
        (["--random-faults=1", "--faults"], config {
            $0.faults = true
            $0.randomFaultProbability = 1
        }),
        (["--faults", "--random-faults", "0"], config { $0.faults = true }),
        // The last of a repeated option wins.
        (["--port", "1", "--port", "2"], config { $0.port = 2 }),
        (["--help"], .help),
        (["-h"], .help),
        (["--port", "0", "--help", "--bogus"], .help),
    ] as [([String], ParsedArguments)])
    func accepts(arguments: [String], expected: ParsedArguments) {
        #expect(ParsedArguments.parse(arguments) == expected)
    }

    @Test(arguments: [
        (["--port"], "--port needs a value"),
        (["--port", "-1"], "--port must be an integer from 0 to 65535"),
        (["--port", "65536"], "--port must be an integer from 0 to 65535"),
        (["--port", "80a"], "--port must be an integer from 0 to 65535"),
        (["--port="], "--port must be an integer from 0 to 65535"),
        (["--host", ""], "--host must not be empty"),
        (["--public-key", ""], "--public-key must be a non-empty key without spaces"),
        (["--public-key", "pk test"], "--public-key must be a non-empty key without spaces"),
        (["--secret-key", "sk\ttest"], "--secret-key must be a non-empty key without spaces"),
        (["--secret-key"], "--secret-key needs a value"),
        (["--random-faults", "0.5"], "--random-faults needs --faults"),
        (["--faults", "--random-faults", "1.5"], "--random-faults must be a number from 0 to 1"),
        (["--faults", "--random-faults", "-0.1"], "--random-faults must be a number from 0 to 1"),
        (["--faults", "--random-faults", "nan"], "--random-faults must be a number from 0 to 1"),
        (["--faults", "--random-faults", "inf"], "--random-faults must be a number from 0 to 1"),
        (["--faults", "--random-faults", "half"], "--random-faults must be a number from 0 to 1"),
        (["--faults=yes"], "--faults takes no value"),
        (["--help=me"], "--help takes no value"),
        (["--bogus"], "unknown option '--bogus'"),
        (["-p", "8"], "unknown option '-p'"),
        (["--help", "--port"], nil),
    ] as [([String], String?)])
    func refuses(arguments: [String], message: String?) {
        let result = ParsedArguments.parse(arguments)
        if let message {
            #expect(result == .invalid(message))
        } else {
            #expect(result == .help)
        }
    }

    /// A mistyped option's value, or a stray word, may be a key: never echoed.
    @Test(arguments: [
        (["--secret=sk_live_REALSECRET"], "unknown option '--secret'"),
        (["sk_live_REALSECRET"], "unexpected argument"),
        (["--port", "0", "sk_live_REALSECRET"], "unexpected argument"),
    ])
    func refusalsDoNotEchoValues(arguments: [String], message: String) {
        #expect(ParsedArguments.parse(arguments) == .invalid(message))
    }

    @Test func liveModeFollowsThePublicKey() {
        var config = SandboxConfig()
        config.publicKey = "pk_live_abc"
        #expect(config.livemode)
        config.publicKey = "pk_test_live_"
        #expect(!config.livemode)
    }

    @Test func theUsageNamesEveryOptionAndEndpoint() {
        let usage = ParsedArguments.usage
        #expect(usage.hasPrefix("Usage: kasko-sandbox "))
        #expect(usage.hasSuffix("\n") && !usage.hasSuffix("\n\n"))
        for word in ["--host", "--port", "--public-key", "--secret-key", "--faults", "--random-faults", "--help",
                     "POST /payments?key=", "GET  /payments/{id}", "/__sandbox/offers", "/__sandbox/health",
                     "/__sandbox/connections", "/__sandbox/payments/{id}/settle", "X-Sandbox-Fault"] {
            #expect(usage.contains(word), "usage lacks \(word)")
        }
    }
}
