// The command line: the usage text and the parse of the arguments into a
// configuration. Pure, so that every accepted form and every refusal can be
// tested without starting a process; main.swift turns the result into
// output and an exit code.

/// What the arguments ask for.
package enum ParsedArguments: Equatable, Sendable {
    case run(SandboxConfig)
    case help
    /// A message for stderr; never echoes a value (it may be a key).
    case invalid(String)

    /// Printed by --help. The man page and scripts/sandbox-smoke check it.
    package static let usage = """
        Usage: kasko-sandbox [--host HOST] [--port N] [--public-key KEY] [--secret-key KEY]
                             [--policy-delay-ms N] [--response-delay-ms N]
                             [--webhook-url URL --webhook-secret SECRET
                              [--webhook-backoff-ms N] [--webhook-attempts N]]
                             [--faults [--random-faults P]] [--help]

        A local emulator of the KASKO API for tests, demos and offline development:
        quotes, offers, payments, policies created asynchronously, and signed
        webhooks. The first line on stdout is the base URL it listens on.

        Options:
          --host HOST        address to listen on (default 127.0.0.1)
          --port N           port to listen on; 0 picks a free port (default 8420)
          --public-key KEY   public key callers pass as ?key= (default pk_test_sandbox);
                             a pk_live_ key makes the sandbox answer in live mode
          --secret-key KEY   secret key callers pass as "Authorization: Bearer KEY"
                             (default sk_test_sandbox)
          --policy-delay-ms N
                             how long a paid policy stays "pending" before it is
                             created (0 to 600000, default 200)
          --response-delay-ms N
                             answer every API request N ms after carrying it out,
                             on a timer: a server with a fixed latency, for load
                             tests (0 to 60000, default 0)
          --webhook-url URL  send policy.created webhooks to this http:// URL
                             (https:// is accepted but cannot be delivered)
          --webhook-secret SECRET
                             the secret of X-KASKO-Signature (HMAC-SHA1 of the body);
                             required with --webhook-url and only with it; never
                             printed
          --webhook-backoff-ms N
                             wait before the first redelivery, doubled for each
                             one after (1 to 3600000, default 1000)
          --webhook-attempts N
                             attempts in all before giving up (1 to 100, default 6)
          --faults           enable fault injection (for tests): the X-Sandbox-Fault
                             request header, and the /__sandbox/faults and
                             /__sandbox/attempts endpoints; off by default
          --random-faults P  with --faults: give each API request (not /__sandbox),
                             with probability P (0 to 1, default 0), a random fault
          --help             show this help and exit

        Catalog: integration_id "in_sandbox_travel" sells item_id "ins_sandbox_travel"
        on subscription_plan_id "pp_sandbox_single" (30 days) or "pp_sandbox_annual"
        (1 year); quote data: "trip_cost" (integer 1..10000000, minor units) and
        "policy_start_date" ("YYYY-MM-DD"). Integration "in_sandbox_building"
        always answers 409 (pricing logic being created).

        API endpoints:
          POST /quotes?key=PUBLIC_KEY             quote (Accept: application/vnd.kasko.v3+json)
          POST /policies?key=PUBLIC_KEY           offer from a quote_token
                                                  (Accept: application/vnd.kasko.v2+json)
          POST /payments?key=PUBLIC_KEY           create a payment
          GET  /payments/{id}                     view a payment (Bearer secret key)
          GET  /offers/{id}                       view an offer (Bearer secret key)
          GET  /policies/{id}                     view a policy (Bearer secret key, Accept v2);
                                                  ETag and Last-Modified headers

        Sandbox-only endpoints (no authentication):
          POST /__sandbox/offers                  create an offer -> {"policy_id","token"}
          POST /__sandbox/offers/{id}/approve     approve an offer made with
                                                  data.manual_underwriting true
          POST /__sandbox/payments/{id}/settle    settle a pending payment;
                                                  body {"status":"ok"|"failed"}, default ok
          GET  /__sandbox/policies/{id}/payments  -> {"policy_id","payments"}: every
                                                  payment ever created on the policy
          GET  /__sandbox/stats                   -> {"quotes","offers","payments",
                                                  "policies_paid","webhook_deliveries"}
          GET  /__sandbox/webhooks/deliveries     -> {"deliveries"}: webhooks sent, their
                                                  attempts and state
          GET  /__sandbox/health                  -> {"status":"ok"}
          GET  /__sandbox/connections             -> {"accepted":N}: TCP connections
                                                  accepted since start

        Payment providers: "invoice" (method "invoice", settled at once) and
        "deferred" (method "deferred", pending until settled).

        Fault injection (only with --faults; see docs/sandbox-faults.md):
          X-Sandbox-Fault: FAULT-JSON             apply a fault to this request
          POST   /__sandbox/faults                arm {"key","fault","times","route"}
                                                  for the requests with that fault key
                                                  (a view's id; a create's policy_id,
                                                  integration_id or quote_token) -> {"id"}
          DELETE /__sandbox/faults[/{key}]        clear all rules, or one key's
          GET    /__sandbox/attempts/{key}        -> {"key","attempts"}: requests seen
          DELETE /__sandbox/attempts[/{key}]      reset the counts
        Faults: {"delay_ms":N} {"status":S,"retry_after":N,"body":"..."}
          {"drop":"before_body"|"after_body"} {"reset":true}
          {"body":"non_json"|"truncated"|"oversized"|"not_payment"}
          {"trickle_ms":N,"trickle_bytes":N} {"close":"after_response"}
        Routes: payment_create payment_view quote_create offer_create offer_view
          policy_view

        """

    static let valueOptions: Set<String> = [
        "--host", "--port", "--public-key", "--secret-key", "--random-faults", "--policy-delay-ms", "--response-delay-ms",
        "--webhook-url", "--webhook-secret", "--webhook-backoff-ms", "--webhook-attempts",
    ]

    package static func parse(_ arguments: [String]) -> ParsedArguments {
        var config = SandboxConfig()
        var randomFaultsGiven = false
        var index = 0
        while index < arguments.count {
            var name = arguments[index]
            var inlineValue: String?
            // Accept both `--port 0` and `--port=0`.
            if name.hasPrefix("--"), let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            index += 1

            if name == "--help" || name == "-h" {
                guard inlineValue == nil else { return .invalid("--help takes no value") }
                return .help
            }

            if name == "--faults" {
                guard inlineValue == nil else { return .invalid("--faults takes no value") }
                config.faults = true
                continue
            }

            guard Self.valueOptions.contains(name) else {
                // Never echo anything but the option name: a stray value may be a key.
                return .invalid(name.hasPrefix("-") ? "unknown option '\(name)'" : "unexpected argument")
            }

            let value: String
            if let inlineValue {
                value = inlineValue
            } else if index < arguments.count {
                value = arguments[index]
                index += 1
            } else {
                return .invalid("\(name) needs a value")
            }

            switch name {
            case "--host":
                guard !value.isEmpty else { return .invalid("--host must not be empty") }
                config.host = value.hasPrefix("[") && value.hasSuffix("]") ? String(value.dropFirst().dropLast()) : value
            case "--port":
                guard let port = Int(value), (0...65535).contains(port) else {
                    return .invalid("--port must be an integer from 0 to 65535")
                }
                config.port = port
            case "--public-key":
                guard !value.isEmpty, !value.contains(where: \.isWhitespace) else {
                    return .invalid("--public-key must be a non-empty key without spaces")
                }
                config.publicKey = value
            case "--secret-key":
                guard !value.isEmpty, !value.contains(where: \.isWhitespace) else {
                    return .invalid("--secret-key must be a non-empty key without spaces")
                }
                config.secretKey = value
            case "--random-faults":
                guard let probability = Double(value), probability.isFinite, (0...1).contains(probability) else {
                    return .invalid("--random-faults must be a number from 0 to 1")
                }
                config.randomFaultProbability = probability
                randomFaultsGiven = true
            case "--policy-delay-ms":
                guard let delay = Int(value), (0...600_000).contains(delay) else {
                    return .invalid("--policy-delay-ms must be an integer from 0 to 600000")
                }
                config.policyDelayMs = delay
            case "--response-delay-ms":
                guard let delay = Int(value), (0...60_000).contains(delay) else {
                    return .invalid("--response-delay-ms must be an integer from 0 to 60000")
                }
                config.responseDelayMs = delay
            case "--webhook-url":
                // The URL is not echoed either: it may carry a token in its query.
                guard let target = WebhookTarget.parse(value) else {
                    return .invalid("--webhook-url must be an http:// or https:// URL with a host")
                }
                config.webhookTarget = target
            case "--webhook-secret":
                guard !value.isEmpty else { return .invalid("--webhook-secret must not be empty") }
                config.webhookSecret = value
            case "--webhook-backoff-ms":
                guard let backoff = Int(value), (1...3_600_000).contains(backoff) else {
                    return .invalid("--webhook-backoff-ms must be an integer from 1 to 3600000")
                }
                config.webhookBackoffMs = backoff
            case "--webhook-attempts":
                guard let attempts = Int(value), (1...100).contains(attempts) else {
                    return .invalid("--webhook-attempts must be an integer from 1 to 100")
                }
                config.webhookAttempts = attempts
            default:
                return .invalid("unknown option '\(name)'")
            }
        }
        if randomFaultsGiven && !config.faults {
            return .invalid("--random-faults needs --faults")
        }
        if config.webhookSecret != nil && config.webhookTarget == nil {
            return .invalid("--webhook-secret needs --webhook-url")
        }
        if config.webhookTarget != nil && config.webhookSecret == nil {
            return .invalid("--webhook-url needs --webhook-secret")
        }
        return .run(config)
    }
}
