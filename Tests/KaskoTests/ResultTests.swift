import Testing
#if canImport(Glibc)
import Glibc
#endif
@testable import Kasko
@testable import KaskoC

/// The C API's typed results, and the facts the C layer must agree on with
/// the core (statuses, outcomes): checked here rather than copied by hand.
@Suite struct ResultTests {
    @Test func theCStatusEnumIsTheCoreStatusEnum() {
        #expect(KaskoCStatus.allCases.map(\.rawValue) == KaskoStatus.allCases.map(\.rawValue))
        for status in KaskoStatus.allCases {
            let cCase = KaskoCStatus(status)
            #expect(cCase.rawValue == status.rawValue)
            #expect(String(cString: kasko_status_name(status.rawValue)) == status.name)
        }
        #expect(String(cString: kasko_status_name(Int32(KaskoStatus.allCases.count))) == "KASKO_STATUS_UNKNOWN")
        #expect(String(cString: kasko_status_name(-1)) == "KASKO_STATUS_UNKNOWN")
        // The header (generated from KaskoCStatus) names and numbers them as the core does.
        #expect(ResultTests.headerEnum("kasko_status") == KaskoStatus.allCases.map { ($0.name, Int($0.rawValue)) }.map(Pair.init))
    }

    @Test func theCOutcomesAreTheErrorObjectsOutcomes() {
        for outcome in [RequestOutcome.notSent, .rejected, .unknown] {
            let cCase = KaskoCOutcome(outcome)
            let name = String(cString: kasko_outcome_name(cCase.rawValue))
            #expect(name == "KASKO_OUTCOME_" + outcome.rawValue.uppercased())
            #expect(ResultTests.headerEnum("kasko_outcome").contains(Pair(name, Int(cCase.rawValue))))
        }
        #expect(String(cString: kasko_outcome_name(0)) == "KASKO_OUTCOME_SUCCEEDED")
        #expect(String(cString: kasko_outcome_name(4)) == "KASKO_OUTCOME_INVALID")
    }

    @Test func theVersionNumberIsTheVersion() {
        #expect(KaskoVersion.string == "\(KaskoVersion.major).\(KaskoVersion.minor).\(KaskoVersion.patch)")
        #expect(Int(kasko_version_number()) == KaskoVersion.major * 1_000_000 + KaskoVersion.minor * 1_000 + KaskoVersion.patch)
        #expect(String(cString: kasko_version()) == KaskoVersion.string)
    }

    @Test func theOutOfMemoryResultIsTheLibrarysOwnErrorObject() {
        let result = CallResult.outOfMemory
        #expect(String(cString: result.json) == KaskoError.internal("out of memory").json)
        #expect(result.jsonLength == KaskoError.internal("out of memory").json.utf8.count)
        #expect(result.status == .internal)
        #expect(result.message.map { String(cString: $0) } == "out of memory")
    }

    @Test func membersAreFoundByNameAndDuplicatesAreAmbiguous() throws {
        let text = Array(#"{"id":"t1","n":12,"f":1.5,"b":true,"z":null,"o":{"a":[1]},"d":1,"d":2}"#.utf8)
        let members = try #require(text.withUnsafeBufferPointer { TopLevelMembers(json: $0) })
        #expect(members.lookup("id") == .value(.string("t1")))
        #expect(members.lookup("d") == .ambiguous)
        #expect(members.lookup("missing") == .absent)
        #expect(members.lookup("a") == .absent)  // nested members are not top-level
        #expect(Array("[1]".utf8).withUnsafeBufferPointer { TopLevelMembers(json: $0) } == nil)
    }

    /// The index finds what the full parser finds, for every member of
    /// documents with escaped keys, nesting, every value type and duplicates.
    @Test(arguments: [
        #"{}"#,
        #" { "a" : 1 , "b":[1,{"a":2}], "c":{"d":"e"}, "\u0061":true, "é":"\u00e9", "n":null, "s":"x\"y" } "#,
        #"{"object":"payment","id":"t1","_links":{"_self":{"href":"http://x/payments/t1"}},"fee":0,"f":-1.5e3}"#,
        #"{"k":"v","k":"w","\u006b2":1,"k2":2}"#,
    ])
    func theIndexAgreesWithTheParser(_ text: String) throws {
        let bytes = Array(text.utf8)
        let members = try #require(bytes.withUnsafeBufferPointer { TopLevelMembers(json: $0) })
        guard case .object(let parsed) = try JSONParser.parse(text) else {
            Issue.record("not an object")
            return
        }
        for member in parsed {
            let count = parsed.filter { $0.key == member.key }.count
            #expect(members.lookup(member.key) == (count == 1 ? .value(member.value) : .ambiguous), "\(member.key)")
        }
        #expect(members.lookup("absent-name") == .absent)
    }

    @Test(arguments: [#"[]"#, #"{"a":1"#, #"{"a":1}x"#, #"{"a":}"#, #"{a:1}"#, #""s""#, ""])
    func refusesWhatIsNotOneObject(_ text: String) {
        #expect(Array(text.utf8).withUnsafeBufferPointer { TopLevelMembers(json: $0) } == nil)
    }

    @Test(arguments: [
        ("12", Int64(12)), ("-9223372036854775808", Int64.min), ("9223372036854775807", Int64.max),
        ("9223372036854775808", nil), ("1.0", nil), ("1e3", nil), ("-0", Int64(0)),
    ] as [(String, Int64?)])
    func integersAreReadOnlyWhenExact(_ literal: String, _ expected: Int64?) {
        #expect(TopLevelMembers.int64(literal) == expected)
    }

    @Test func doublesRefuseOverflow() {
        #expect(TopLevelMembers.double("1.5") == 1.5)
        #expect(TopLevelMembers.double("1e400") == nil)
        #expect(TopLevelMembers.double("-2E-3") == -0.002)
    }

    struct Pair: Equatable, CustomStringConvertible {
        let name: String
        let value: Int
        init(_ name: String, _ value: Int) {
            self.name = name
            self.value = value
        }
        var description: String { "\(name)=\(value)" }
    }

    /// The enumerators of `typedef enum NAME { ... }` in include/kasko.h.
    static func headerEnum(_ name: String) -> [Pair] {
        let path = repositoryRoot + "/include/kasko.h"
        guard let text = readFile(path), let start = text.firstRange(of: "typedef enum \(name) {"),
              let end = text[start.upperBound...].firstRange(of: "} \(name);") else { return [] }
        var pairs: [Pair] = []
        for line in text[start.upperBound..<end.lowerBound].split(separator: "\n") {
            let parts = line.trimmingPrefix(while: { $0 == " " }).split(separator: " ")
            if parts.count == 3, parts[0].hasPrefix("KASKO_"), parts[1] == "=", let value = Int(parts[2].dropLast()) {
                pairs.append(Pair(String(parts[0]), value))
            }
        }
        return pairs
    }
}
