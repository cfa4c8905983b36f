/// The one place that decides, for every way an attempt can end, what the
/// caller is told (status, `outcome`, `retryable`) and whether the library
/// tries again itself. Everything else only gathers the evidence:
/// `EasyHandle` says whether any byte of the request can have been written,
/// `ResponseInterpreter` whether a response is the answer asked for.
/// `docs/reliability.md` carries this as a table, checked against
/// `OutcomeRules.documentedRows` by a test.
///
/// The rules, in words: `not_sent` only where libcurl never reached the
/// point of writing the request; `rejected` only for a 4xx, the server's
/// refusal; everything else is `unknown`. A call with effects (a create) is
/// retried by the library only when it was not sent.

/// What kind of call an attempt belongs to, as far as repeating it goes.
public enum CallKind: Sendable {
    /// Reads only: repeating it cannot change anything (`GET`).
    case view
    /// May take effect on the server (a payment create): repeating it after
    /// it may have been carried out could charge twice.
    case create
}

/// How an attempt ended: the evidence for the decision.
enum AttemptEvidence: Equatable, Sendable {
    /// Why no byte of the request can have been written.
    enum NotSentCause: Equatable, Sendable {
        /// Name resolution, connect, proxy, or a timeout before sending.
        case unreachable
        /// The TLS handshake or the certificate check failed.
        case tls
        /// libcurl refused an option, or memory ran out, before any I/O.
        case local
    }

    /// libcurl never reached the point of writing the request.
    case notSent(NotSentCause)
    /// The request was, or may have been, written; no complete answer came
    /// (timeout, reset, connection closed, truncated body).
    case sentNoAnswer
    /// The request was written; what came back is not a usable answer: not
    /// HTTP, headers or body over the limits, or a 2xx that is not the
    /// answer to the question asked.
    case sentInvalidAnswer
    /// A complete HTTP response with this status (not a usable 2xx).
    case answered(status: Int)
}

/// What the caller is told about a failed attempt, and whether the library
/// makes another.
struct Verdict: Equatable, Sendable {
    let status: KaskoStatus
    let outcome: RequestOutcome
    /// The library tries again itself, while `max_retries` allows.
    let retriedByLibrary: Bool
    /// The caller may safely make the same call again.
    let retryable: Bool
}

enum OutcomeRules {
    static func verdict(_ evidence: AttemptEvidence, for call: CallKind) -> Verdict {
        let isView = call == .view
        switch evidence {
        case .notSent(.unreachable):
            return Verdict(status: .network, outcome: .notSent, retriedByLibrary: true, retryable: true)
        case .notSent(.tls):
            // A certificate problem does not mend itself between attempts.
            return Verdict(status: .network, outcome: .notSent, retriedByLibrary: false, retryable: false)
        case .notSent(.local):
            return Verdict(status: .internal, outcome: .notSent, retriedByLibrary: false, retryable: false)
        case .sentNoAnswer:
            return Verdict(status: .network, outcome: .unknown, retriedByLibrary: isView, retryable: isView)
        case .sentInvalidAnswer:
            // Asking the same server again is unlikely to make it make sense.
            return Verdict(status: .invalidResponse, outcome: .unknown, retriedByLibrary: false, retryable: false)
        case .answered(let status):
            return verdict(httpStatus: status, isView: isView)
        }
    }

    private static func verdict(httpStatus: Int, isView: Bool) -> Verdict {
        func refused(_ status: KaskoStatus, retried: Bool = false, retryable: Bool = false) -> Verdict {
            Verdict(status: status, outcome: .rejected, retriedByLibrary: retried, retryable: retryable)
        }
        func unknown(retried: Bool, retryable: Bool) -> Verdict {
            Verdict(status: .server, outcome: .unknown, retriedByLibrary: retried, retryable: retryable)
        }
        switch httpStatus {
        case 400: return refused(.badRequest)
        case 401, 403: return refused(.unauthorized)
        case 404: return refused(.notFound)
        case 422: return refused(.pendingPayment)
        // Refused before being carried out: safe to repeat, but a create is
        // left to the caller, who may prefer to wait longer.
        case 429: return refused(.rateLimited, retried: isView, retryable: true)
        case 400...499: return refused(.server)
        // The server may have acted before failing.
        case 500: return unknown(retried: false, retryable: isView)
        case 502, 503, 504: return unknown(retried: isView, retryable: isView)
        // Other 5xx, and 1xx, 2xx (unusable), 3xx or >= 600 as a final
        // status: not a refusal this library understands.
        default: return unknown(retried: false, retryable: false)
        }
    }

    /// The rows of the table in `docs/reliability.md`: what happened, and
    /// the pieces of evidence that stand for it (each must give the same
    /// verdict; a test checks both that and the document).
    static let documentedRows: [(what: String, evidence: [AttemptEvidence])] = [
        ("DNS failure, connection refused, connect timeout, proxy failure: nothing sent", [.notSent(.unreachable)]),
        ("TLS handshake or certificate failure: nothing sent", [.notSent(.tls)]),
        ("libcurl refused an option, or memory ran out, before any I/O", [.notSent(.local)]),
        ("timeout, reset, connection closed or body cut short after the request was written",
         [.sentNoAnswer]),
        ("a reply that is not HTTP (garbage, `HTTP/1.2`, a status below 100), a header over libcurl's "
            + "limit, a body over 1 MiB; a 2xx that is not the payment asked for (not a payment, another "
            + "id or policy, a duplicated `id` or `object`, or for a create `policy_id`)",
         [.sentInvalidAnswer]),
        ("400", [.answered(status: 400)]),
        ("401, 403", [.answered(status: 401), .answered(status: 403)]),
        ("404", [.answered(status: 404)]),
        ("422", [.answered(status: 422)]),
        ("429", [.answered(status: 429)]),
        ("any other 4xx (405, 409, 413, …)",
         [.answered(status: 405), .answered(status: 409), .answered(status: 413), .answered(status: 499)]),
        ("500", [.answered(status: 500)]),
        ("502, 503, 504", [.answered(status: 502), .answered(status: 503), .answered(status: 504)]),
        ("any other 5xx; a 1xx, 3xx or ≥ 600 final status (303, 600, 999, …)",
         [.answered(status: 501), .answered(status: 505), .answered(status: 599), .answered(status: 101),
          .answered(status: 303), .answered(status: 304), .answered(status: 600), .answered(status: 999)]),
    ]

    /// `documentedRows` as the Markdown table of `docs/reliability.md`.
    static var markdownTable: String {
        var lines = [
            "| what happened | status | `outcome` | view: retried by the library | create: retried by the library | `retryable` (view / create) |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for row in documentedRows {
            guard let evidence = row.evidence.first else { continue }
            let view = verdict(evidence, for: .view)
            let create = verdict(evidence, for: .create)
            func yesNo(_ flag: Bool) -> String { flag ? "yes" : "no" }
            let outcome = view.outcome == create.outcome
                ? "`\(view.outcome.rawValue)`" : "view `\(view.outcome.rawValue)`, create `\(create.outcome.rawValue)`"
            lines.append(
                "| \(row.what) | `\(view.status.name)` | \(outcome) | \(yesNo(view.retriedByLibrary)) | "
                    + "\(yesNo(create.retriedByLibrary)) | \(view.retryable) / \(create.retryable) |")
        }
        return lines.joined(separator: "\n")
    }
}
