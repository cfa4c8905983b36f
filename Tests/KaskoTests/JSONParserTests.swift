import Testing
@testable import Kasko

@Suite struct JSONParserTests {
    @Test func parsesTheReferenceShapes() throws {
        let value = try JSONParser.parse(#"{"a":[1,-2.5e3,true,false,null],"b":{"c":"d"},"e":""}"#)
        #expect(value["a"] == .array([.number("1"), .number("-2.5e3"), .bool(true), .bool(false), .null]))
        #expect(value["b"]?["c"] == .string("d"))
        #expect(value["e"] == .string(""))
        #expect(value["missing"] == nil)
    }

    @Test func decodesEscapes() throws {
        let value = try JSONParser.parse(#"["\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"]"#)
        #expect(value == .array([.string("\"\\/\u{08}\u{0C}\n\r\t\u{E9}\u{1F600}")]))
    }

    @Test func keepsMemberOrderAndDuplicates() throws {
        guard case .object(let members) = try JSONParser.parse(#"{"z":1,"a":2,"z":3}"#) else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.key) == ["z", "a", "z"])
    }

    @Test(arguments: [
        "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "01", "1.", ".5", "-", "1e", "+1",
        "tru", "nul", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\ud800\\u0041\"",
        "\"tab\there\"", "[1] [2]", "{\"a\":1}x", "\u{FEFF}{}",
    ])
    func refusesMalformedDocuments(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    @Test func refusesInvalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONParseError.self) { try JSONParser.parse([0x22, 0x5C, 0x6E, 0xFF, 0x22]) }
    }

    @Test func boundsNesting() throws {
        let deep = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        _ = try JSONParser.parse(deep)
        let tooDeep = String(repeating: "[", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(tooDeep) }
    }

    @Test func writerEscapesWhatJSONRequires() throws {
        let original = "quote\" backslash\\ newline\n nul\u{0} bell\u{07} é 😀"
        let quoted = JSONWriter.quoted(original)
        #expect(!quoted.unicodeScalars.contains { $0.value < 0x20 })
        #expect(try JSONParser.parse(quoted) == .string(original))
    }

    /// The events' byte writer gives what the parser reads back: escapes,
    /// integers at both ends of their range, null and booleans, in order.
    @Test func byteWriterRoundTrips() throws {
        var object = JSONObjectBytes(capacity: 8)
        let awkward = "quote\" backslash\\ newline\n nul\u{0} é 😀"
        object.add("s", string: awkward)
        object.add("plain", string: "/payments/t123")
        object.add("none", string: nil)
        object.add("zero", int: 0)
        object.add("min", int: Int64.min)
        object.add("max", int: Int64.max)
        object.add("negative", int: -1205)
        object.add("absent", int: nil as Int?)
        object.add("yes", bool: true)
        object.add("no", bool: false)
        let text = String(decoding: object.finish(), as: UTF8.self)
        let value = try JSONParser.parse(text)
        #expect(value["s"] == .string(awkward))
        #expect(value["plain"] == .string("/payments/t123"))
        #expect(value["none"] == .null)
        #expect(value["zero"] == .number("0"))
        #expect(value["min"] == .number("-9223372036854775808"))
        #expect(value["max"] == .number("9223372036854775807"))
        #expect(value["negative"] == .number("-1205"))
        #expect(value["absent"] == .null)
        #expect(value["yes"] == .bool(true))
        #expect(value["no"] == .bool(false))
        #expect(text.hasPrefix(#"{"s":"#) && !text.contains(",,"))
        var empty = JSONObjectBytes(capacity: 2)
        #expect(String(decoding: empty.finish(), as: UTF8.self) == "{}")
    }
}
