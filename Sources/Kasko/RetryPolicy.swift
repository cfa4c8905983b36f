#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// How many times to try again and how long to wait first. Whether a
/// failure is tried again at all is `OutcomeRules`' decision.
struct RetryPolicy {
    static let baseDelayMilliseconds = 250
    static let maximumBackoffMilliseconds = 5_000
    static let maximumRetryAfterSeconds = 30

    let maxRetries: Int

    /// Whether attempt `attempt` (1-based), which ended with `verdict`, is
    /// followed by another.
    func shouldRetry(_ verdict: Verdict, attempt: Int) -> Bool {
        verdict.retriedByLibrary && attempt <= maxRetries
    }

    /// Capped exponential backoff with full jitter, unless the server said how
    /// long to wait (honoured up to a cap).
    func delayMilliseconds(afterAttempt attempt: Int, retryAfterSeconds: Int?) -> Int {
        if let retryAfterSeconds {
            return min(retryAfterSeconds, RetryPolicy.maximumRetryAfterSeconds) * 1000
        }
        let exponent = min(max(attempt - 1, 0), 16)
        let ceiling = min(RetryPolicy.maximumBackoffMilliseconds, RetryPolicy.baseDelayMilliseconds << exponent)
        return Int.random(in: 0...ceiling)
    }

    static func sleep(milliseconds: Int) {
        guard milliseconds > 0 else { return }
        var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
        var remaining = timespec()
        // Resume after a signal interrupts the sleep.
        while nanosleep(&request, &remaining) == -1 && errno == EINTR {
            request = remaining
        }
    }
}
