// The fault JSON (docs/sandbox-faults.md, "The fault JSON"): every form the
// parser accepts, and every refusal with the message a test author reads.

import Foundation
import Testing
@testable import KaskoSandbox

private func parsed(_ text: String) -> Fault? {
    if case .success(let fault) = Fault.parse(json: text) { return fault }
    return nil
}

private func problem(_ text: String) -> String? {
    if case .failure(let problem) = Fault.parse(json: text) { return problem.message }
    return nil
}

@Suite struct FaultParserTests {
    @Test(arguments: [
        ("{}", Fault()),
        (#"{"delay_ms":0}"#, Fault()),
        (#"{"delay_ms":1}"#, Fault(delayMs: 1)),
        (#"{"delay_ms":600000}"#, Fault(delayMs: 600_000)),
        (#"{"status":200}"#, Fault(status: 200)),
        (#"{"status":599}"#, Fault(status: 599)),
        (#"{"status":503,"retry_after":2}"#, Fault(status: 503, retryAfter: "2")),
        (#"{"status":503,"retry_after":0}"#, Fault(status: 503, retryAfter: "0")),
        (#"{"status":503,"retry_after":"\#(String(repeating: "~", count: 256))"}"#,
         Fault(status: 503, retryAfter: String(repeating: "~", count: 256))),
        (#"{"status":429,"retry_after":"Wed, 21 Oct 2015 07:28:00 GMT"}"#,
         Fault(status: 429, retryAfter: "Wed, 21 Oct 2015 07:28:00 GMT")),
        (#"{"status":500,"body":"<html>oops</html>"}"#, Fault(status: 500, rawBody: "<html>oops</html>")),
        // With status, a keyword is only text.
        (#"{"status":500,"body":"truncated"}"#, Fault(status: 500, rawBody: "truncated")),
        (#"{"status":500,"body":""}"#, Fault(status: 500, rawBody: "")),
        (#"{"body":"non_json"}"#, Fault(bodyKind: .nonJSON)),
        (#"{"body":"truncated"}"#, Fault(bodyKind: .truncated)),
        (#"{"body":"oversized"}"#, Fault(bodyKind: .oversized)),
        (#"{"body":"not_payment"}"#, Fault(bodyKind: .notPayment)),
        (#"{"drop":"before_body"}"#, Fault(drop: .beforeBody)),
        (#"{"drop":"after_body"}"#, Fault(drop: .afterBody)),
        (#"{"reset":true}"#, Fault(reset: true)),
        (#"{"reset":false}"#, Fault()),
        (#"{"trickle_ms":1}"#, Fault(trickleMs: 1, trickleBytes: 8)),
        (#"{"trickle_ms":60000,"trickle_bytes":65536}"#, Fault(trickleMs: 60_000, trickleBytes: 65_536)),
        (#"{"trickle_ms":5,"trickle_bytes":1}"#, Fault(trickleMs: 5, trickleBytes: 1)),
        (#"{"close":"after_response"}"#, Fault(close: .afterResponse)),
        // null is absent.
        (#"{"delay_ms":null,"status":null,"retry_after":null,"body":null,"drop":null,"trickle_ms":null,"#
            + #""trickle_bytes":null,"reset":null,"close":null}"#, Fault()),
        // The documented combinations.
        (#"{"delay_ms":200,"status":503}"#, Fault(delayMs: 200, status: 503)),
        (#"{"delay_ms":100,"drop":"before_body"}"#, Fault(delayMs: 100, drop: .beforeBody)),
        (#"{"status":503,"retry_after":1,"trickle_ms":5}"#, Fault(status: 503, retryAfter: "1", trickleMs: 5)),
        (#"{"body":"truncated","trickle_ms":10}"#, Fault(bodyKind: .truncated, trickleMs: 10)),
        (#"{"body":"oversized","trickle_ms":1}"#, Fault(bodyKind: .oversized, trickleMs: 1)),
        (#"{"delay_ms":5,"reset":true}"#, Fault(delayMs: 5, reset: true)),
        (#"{"status":503,"close":"after_response"}"#, Fault(status: 503, close: .afterResponse)),
        (#"{"reset":false,"drop":"after_body"}"#, Fault(drop: .afterBody)),
        (#"  {"status" : 503}  "#, Fault(status: 503)),
    ])
    func accepts(text: String, fault: Fault) {
        #expect(parsed(text) == fault)
    }

    @Test(arguments: [
        ("", "The fault must be a JSON object."),
        ("503", "The fault must be a JSON object."),
        (#""status""#, "The fault must be a JSON object."),
        ("[]", "The fault must be a JSON object."),
        ("null", "The fault must be a JSON object."),
        (#"{"status":503"#, "The fault must be a JSON object."),
        (#"{'status':503}"#, "The fault must be a JSON object."),
        (#"{"statu":503}"#, "Unknown fault field 'statu'."),
        // The first unknown name in sorted order, whatever the order written.
        (#"{"zeta":1,"alpha":2,"status":503}"#, "Unknown fault field 'alpha'."),
        (#"{"Status":503}"#, "Unknown fault field 'Status'."),
        (#"{"delay_ms":-1}"#, "The delay_ms field must be an integer from 0 to 600000."),
        (#"{"delay_ms":600001}"#, "The delay_ms field must be an integer from 0 to 600000."),
        (#"{"delay_ms":1.5}"#, "The delay_ms field must be an integer from 0 to 600000."),
        (#"{"delay_ms":"10"}"#, "The delay_ms field must be an integer from 0 to 600000."),
        (#"{"delay_ms":true}"#, "The delay_ms field must be an integer from 0 to 600000."),
        (#"{"delay_ms":99999999999999999999}"#, "The delay_ms field must be an integer from 0 to 600000."),
        (#"{"status":199}"#, "The status field must be an integer from 200 to 599."),
        (#"{"status":600}"#, "The status field must be an integer from 200 to 599."),
        (#"{"status":"503"}"#, "The status field must be an integer from 200 to 599."),
        (#"{"status":{}}"#, "The status field must be an integer from 200 to 599."),
        (#"{"status":[503]}"#, "The status field must be an integer from 200 to 599."),
        (#"{"status":503,"retry_after":-1}"#,
         "The retry_after field must be a non-negative integer or a printable ASCII string."),
        (#"{"status":503,"retry_after":""}"#,
         "The retry_after field must be a non-negative integer or a printable ASCII string."),
        (#"{"status":503,"retry_after":"\#(String(repeating: "~", count: 257))"}"#,
         "The retry_after field must be a non-negative integer or a printable ASCII string."),
        (#"{"status":503,"retry_after":"1\n2"}"#,
         "The retry_after field must be a non-negative integer or a printable ASCII string."),
        (#"{"status":503,"retry_after":"déjà"}"#,
         "The retry_after field must be a non-negative integer or a printable ASCII string."),
        (#"{"status":503,"retry_after":1.5}"#,
         "The retry_after field must be a non-negative integer or a printable ASCII string."),
        (#"{"status":503,"retry_after":true}"#,
         "The retry_after field must be a non-negative integer or a printable ASCII string."),
        (#"{"retry_after":2}"#, "The retry_after field needs status."),
        (#"{"body":"html"}"#,
         "The body field must be one of non_json, truncated, oversized, not_payment (any text only together with status)."),
        (#"{"body":1}"#, "The body field must be a string."),
        (#"{"status":500,"body":{}}"#, "The body field must be a string."),
        (#"{"drop":"before_headers"}"#, #"The drop field must be "before_body" or "after_body"."#),
        (#"{"drop":true}"#, #"The drop field must be "before_body" or "after_body"."#),
        (#"{"trickle_ms":0}"#, "The trickle_ms field must be an integer from 1 to 60000."),
        (#"{"trickle_ms":60001}"#, "The trickle_ms field must be an integer from 1 to 60000."),
        (#"{"trickle_ms":5,"trickle_bytes":0}"#, "The trickle_bytes field must be an integer from 1 to 65536."),
        (#"{"trickle_ms":5,"trickle_bytes":65537}"#, "The trickle_bytes field must be an integer from 1 to 65536."),
        (#"{"trickle_bytes":8}"#, "The trickle_bytes field needs trickle_ms."),
        (#"{"reset":1}"#, "The reset field must be true or false."),
        (#"{"reset":"true"}"#, "The reset field must be true or false."),
        (#"{"close":"before_response"}"#, #"The close field must be "after_response"."#),
        (#"{"close":true}"#, #"The close field must be "after_response"."#),
    ])
    func refuses(text: String, message: String) {
        #expect(problem(text) == message)
    }

    @Test(arguments: [
        #"{"drop":"after_body","status":503}"#,
        #"{"drop":"after_body","body":"non_json"}"#,
        #"{"drop":"before_body","trickle_ms":5}"#,
        #"{"drop":"before_body","close":"after_response"}"#,
        #"{"drop":"before_body","reset":true}"#,
    ])
    func dropCombinesWithNoAnswerAndNoReset(text: String) {
        #expect(problem(text) == "The drop fault cannot be combined with status, body, trickle_ms, close or reset.")
    }

    @Test(arguments: [
        #"{"reset":true,"status":503}"#,
        #"{"reset":true,"body":"truncated"}"#,
        #"{"reset":true,"trickle_ms":5}"#,
        #"{"reset":true,"close":"after_response"}"#,
    ])
    func resetCombinesWithNoAnswer(text: String) {
        #expect(problem(text) == "The reset fault cannot be combined with status, body, trickle_ms or close.")
    }

    @Test func longUnknownNamesAreClippedInTheMessage() {
        let name = String(repeating: "n", count: 100)
        #expect(problem(#"{"\#(name)":1}"#) == "Unknown fault field '\(String(repeating: "n", count: 64))...'.")
        #expect(FaultProblem.clip(String(repeating: "x", count: 64)) == String(repeating: "x", count: 64))
    }

    @Test func deepDocumentsAreNotDecodedDeeply() {
        // Nesting past two levels is opaque: no input makes decoding recurse.
        let deep = String(repeating: #"{"a":"#, count: 10_000) + "1" + String(repeating: "}", count: 10_000)
        #expect(problem(#"{"status":\#(deep)}"#) != nil)
        #expect(FaultJSON.object(Data(#"{"a":{"b":{"c":1}}}"#.utf8)) == ["a": .object(["b": .other])])
    }

    @Test func whatARequestCarriesOut() {
        #expect(Fault().carriesOutRequest)
        #expect(Fault(delayMs: 5).carriesOutRequest)
        #expect(Fault(drop: .afterBody).carriesOutRequest)
        #expect(Fault(trickleMs: 5).carriesOutRequest)
        #expect(Fault(close: .afterResponse).carriesOutRequest)
        #expect(!Fault(status: 503).carriesOutRequest)
        #expect(!Fault(bodyKind: .nonJSON).carriesOutRequest)
        #expect(!Fault(drop: .beforeBody).carriesOutRequest)
        #expect(!Fault(reset: true).carriesOutRequest)
    }

    /// The list docs/sandbox-faults.md gives for --random-faults, in its JSON form.
    @Test func randomFaultsAreTheDocumentedEight() {
        let documented = [
            #"{"status":429,"retry_after":0}"#, #"{"status":500}"#, #"{"status":502}"#, #"{"status":503}"#,
            #"{"status":504}"#, #"{"delay_ms":50}"#, #"{"drop":"after_body"}"#, #"{"body":"non_json"}"#,
        ]
        #expect(Fault.randomChoices == documented.map(parsed))
    }
}

@Suite struct FaultRegistryTests {
    @Test func rulesOfOneKeyApplyInTheOrderArmed() {
        let registry = FaultRegistry(randomProbability: 0)
        #expect(registry.arm(key: "k", fault: Fault(status: 503), times: 2, id: "r1"))
        #expect(registry.arm(key: "k", fault: Fault(drop: .afterBody), times: 1, id: "r2"))
        #expect(registry.arm(key: "other", fault: Fault(reset: true), times: nil, id: "r3"))
        let seen = (0..<4).map { _ in registry.noteRequest(key: "k", consultRules: true) }
        #expect(seen == [Fault(status: 503), Fault(status: 503), Fault(drop: .afterBody), nil])
        #expect(registry.attempts(key: "k") == 4)
        #expect(registry.noteRequest(key: "other", consultRules: true) == Fault(reset: true))
    }

    @Test func aRequestWithItsOwnFaultIsCountedButUsesNoRule() {
        let registry = FaultRegistry(randomProbability: 0)
        _ = registry.arm(key: "k", fault: Fault(status: 500), times: 1, id: "r")
        #expect(registry.noteRequest(key: "k", consultRules: false) == nil)
        #expect(registry.noteRequest(key: "k", consultRules: true) == Fault(status: 500))
        #expect(registry.attempts(key: "k") == 2)
    }

    @Test func overlongKeysAreNeitherCountedNorMatched() {
        let registry = FaultRegistry(randomProbability: 0)
        let key = String(repeating: "k", count: FaultRegistry.maxKeyBytes + 1)
        #expect(!FaultRegistry.acceptsKey(key))
        #expect(!FaultRegistry.acceptsKey(""))
        #expect(FaultRegistry.acceptsKey(String(key.dropLast())))
        _ = registry.arm(key: key, fault: Fault(status: 500), times: nil, id: "r")
        #expect(registry.noteRequest(key: key, consultRules: true) == nil)
        #expect(registry.attempts(key: key) == 0)
    }

    @Test func theRuleTableIsBounded() {
        let registry = FaultRegistry(randomProbability: 0)
        for index in 0..<FaultRegistry.maxRules {
            #expect(registry.arm(key: "k\(index % 7)", fault: Fault(), times: 1, id: "r"))
        }
        #expect(!registry.arm(key: "one more", fault: Fault(), times: 1, id: "r"))
        // Used-up rules make room again.
        _ = registry.noteRequest(key: "k0", consultRules: true)
        #expect(registry.arm(key: "one more", fault: Fault(), times: 1, id: "r"))
        let ofK1 = (0..<FaultRegistry.maxRules).filter { $0 % 7 == 1 }.count
        #expect(registry.clear(key: "k1") == ofK1)
        #expect(registry.clearAll() == FaultRegistry.maxRules - ofK1)
        #expect(registry.clearAll() == 0)
    }

    @Test func countedKeysAreBoundedUntilReset() {
        let registry = FaultRegistry(randomProbability: 0)
        for index in 0..<FaultRegistry.maxTrackedKeys {
            _ = registry.noteRequest(key: "k\(index)", consultRules: false)
        }
        _ = registry.noteRequest(key: "new", consultRules: false)
        #expect(registry.attempts(key: "new") == 0)
        // Known keys still count.
        _ = registry.noteRequest(key: "k0", consultRules: false)
        #expect(registry.attempts(key: "k0") == 2)
        #expect(registry.resetAttempts() == FaultRegistry.maxTrackedKeys)
        _ = registry.noteRequest(key: "new", consultRules: false)
        #expect(registry.attempts(key: "new") == 1)
    }
}
