#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// When to try a request again, and how long to wait first.
///
/// The rule that matters most: a payment create is retried only when it
/// provably never reached the server (DNS or connect failure). Anything else
/// could turn one payment into two.
struct RetryPolicy {
    static let baseDelayMilliseconds = 250
    static let maximumBackoffMilliseconds = 5_000
    static let maximumRetryAfterSeconds = 30

    let maxRetries: Int

    /// Whether the failure of attempt `attempt` (1-based) may be retried.
    func shouldRetry(_ failure: TransportFailure, method: HTTPRequest.Method, attempt: Int) -> Bool {
        guard attempt <= maxRetries else { return false }
        switch failure.kind {
        case .notSent:
            return true
        case .noAnswer:
            return method == .get
        case .tls, .bodyTooLarge, .local:
            return false
        }
    }

    func shouldRetry(_ response: HTTPResponse, method: HTTPRequest.Method, attempt: Int) -> Bool {
        guard attempt <= maxRetries, method == .get else { return false }
        return [429, 502, 503, 504].contains(response.status)
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
