// What a sandbox is started with: the command line's options, parsed.

package struct SandboxConfig: Sendable, Equatable {
    package var host = "127.0.0.1"
    package var port = 8420
    package var publicKey = "pk_test_sandbox"
    package var secretKey = "sk_test_sandbox"
    /// --faults: fault injection and its endpoints. Off, nothing of it is
    /// reachable.
    package var faults = false
    /// --random-faults (only with --faults).
    package var randomFaultProbability = 0.0
    /// --webhook-url and --webhook-secret: both or neither. Without them no
    /// webhook is sent (deliveries are not even recorded).
    package var webhookTarget: WebhookTarget?
    package var webhookSecret: String?
    /// --webhook-backoff-ms: the wait before the first redelivery, doubled
    /// for each one after.
    package var webhookBackoffMs = 1000
    /// --webhook-attempts: attempts in all, the first included.
    package var webhookAttempts = 6
    /// --policy-delay-ms: how long a paid policy stays "pending" before it
    /// is created (KASKO creates policies asynchronously).
    package var policyDelayMs = 200
    /// --response-delay-ms: every API answer waits this long after the
    /// request was carried out (a fixed latency, for load tests).
    package var responseDelayMs = 0

    package init() {}

    /// The real API decides test or live mode from the key; so does the sandbox.
    package var livemode: Bool { publicKey.hasPrefix("pk_live_") }
}
