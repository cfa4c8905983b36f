import CCurl
import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import Kasko

@Suite struct OutcomeRulesTests {
    static let calls: [CallKind] = [.view, .create]

    /// docs/reliability.md carries the table made from the rules, between
    /// two markers. KASKO_UPDATE_DOCS=1 writes it there instead of checking.
    @Test func theReliabilityDocumentShowsTheRules() throws {
        let path = #filePath.split(separator: "/").dropLast(3).joined(separator: "/")
        let file = "/" + path + "/docs/reliability.md"
        let begin = "<!-- outcome table: generated from Sources/Kasko/OutcomeRules.swift -->"
        let end = "<!-- end of outcome table -->"
        let text = try #require(readFile(file))
        let start = try #require(text.firstRange(of: begin))
        let stop = try #require(text.firstRange(of: end))
        let current = String(text[start.upperBound..<stop.lowerBound])
        let wanted = "\n" + OutcomeRules.markdownTable + "\n"
        if getenv("KASKO_UPDATE_DOCS") != nil {
            let updated = String(text[..<start.upperBound]) + wanted + String(text[stop.lowerBound...])
            #expect(writeFile(file, updated))
        } else {
            #expect(current == wanted, "docs/reliability.md's outcome table differs from OutcomeRules; run KASKO_UPDATE_DOCS=1 swift test")
        }
    }

    @Test func everyEvidenceOfARowGetsTheSameVerdict() {
        for row in OutcomeRules.documentedRows {
            for call in Self.calls {
                let verdicts = row.evidence.map { OutcomeRules.verdict($0, for: call) }
                #expect(Set(verdicts.map { "\($0)" }).count == 1, "\(row.what)")
            }
        }
    }

    /// The promises of the outcome field, over every HTTP status.
    @Test func outcomesAreNeverOptimistic() {
        for status in 0...1000 {
            for call in Self.calls {
                let verdict = OutcomeRules.verdict(.answered(status: status), for: call)
                #expect(verdict.outcome != .notSent, "an answered request was sent")
                #expect((verdict.outcome == .rejected) == (400...499).contains(status), "HTTP \(status)")
                if call == .create {
                    #expect(!verdict.retriedByLibrary, "a create answered \(status) is never repeated by the library")
                    if verdict.outcome == .unknown { #expect(!verdict.retryable, "HTTP \(status)") }
                }
            }
        }
        for evidence in [AttemptEvidence.sentNoAnswer, .sentInvalidAnswer] {
            let create = OutcomeRules.verdict(evidence, for: .create)
            #expect(create.outcome == .unknown && !create.retriedByLibrary && !create.retryable)
        }
    }

    /// Only the pre-request callback's silence makes a failure "not sent".
    @Test func theErrorCodeAloneNeverSaysNotSent() {
        for code in 1..<100 {
            let curlCode = CURLcode(rawValue: UInt32(code))
            let sent = EasyHandle.evidence(for: curlCode, requestStarted: true)
            #expect(sent == .sentNoAnswer || sent == .sentInvalidAnswer, "curl error \(code) after sending")
            if case .notSent = EasyHandle.evidence(for: curlCode, requestStarted: false) {
            } else {
                Issue.record("curl error \(code) before sending")
            }
        }
        #expect(EasyHandle.evidence(for: CURLE_UNSUPPORTED_PROTOCOL, requestStarted: true) == .sentInvalidAnswer)
        #expect(EasyHandle.evidence(for: CURLE_OUT_OF_MEMORY, requestStarted: true) == .sentInvalidAnswer)
        #expect(EasyHandle.evidence(for: CURLE_GOT_NOTHING, requestStarted: true) == .sentNoAnswer)
    }
}

@Suite struct RedactorTests {
    @Test func takesKeysAndTokensOutOfEverythingAServerSaid() throws {
        let configuration = try Configuration(
            json: #"{"public_key":"pk_test_PUBLIC123","secret_key":"sk_test_SECRET456"}"#)
        let redactor = Redactor(configuration: configuration, callSecrets: ["tok\"en✓"])
        var error = KaskoError(
            status: .badRequest, message: "Authorization: Bearer sk_test_SECRET456 for pk_test_PUBLIC123 with tok\"en✓",
            statusText: "sk_test_SECRET456", pendingPaymentID: "sk_test_SECRET456", requestID: " pk_test_PUBLIC123",
            serverErrors: .array([.object([JSONMember(key: "tok\"en✓", value: .string("x sk_test_SECRET456"))])]))
        error = error.redacted(by: redactor)
        let json = error.json
        for secret in ["SECRET456", "PUBLIC123", "tok\"en✓", #"tok\"en✓"#] {
            #expect(!json.contains(secret), "\(secret) in \(json)")
        }
        #expect(error.message == "Authorization: Bearer [redacted] for [redacted] with [redacted]")
        // As spelled in the request body, when a server quotes the raw body back.
        let echoed = KaskoError(status: .badRequest, message: #"body was {"token":"tok\"en✓"}"#).redacted(by: redactor)
        #expect(echoed.message == #"body was {"token":"[redacted]"}"#)
        #expect(error.pendingPaymentID == nil)
        #expect(json.contains(#"[{"[redacted]":"x [redacted]"}]"#))
    }
}
