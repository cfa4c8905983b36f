/// Checks a response body against the payment contract without building it:
/// the bytes must be one strict JSON document (exactly what `JSONParser`
/// accepts: RFC 8259, valid UTF-8, no lone surrogates, nesting ≤ 64) whose
/// top level is an object, and the scan notes where that object's
/// `"object"`, `"id"` and `"policy_id"` members are, and whether any of them
/// appears twice (readers disagree on which of two to believe: Python, Go
/// and JavaScript take the last).
///
/// This is the hot path of every call. `JSONParser` would allocate a string
/// per key and value (a payment has about 30) only for the library to pass
/// the bytes on unchanged; the scanner allocates nothing. A fuzz target
/// checks that both always agree.
struct PaymentScan {
    enum TopLevel { case object, other(String) }

    /// A string member's value: its raw bytes when it has no escapes, else
    /// nil (the caller decodes those rare cases with `JSONParser`).
    enum Member: Equatable {
        case absent
        case notAString
        case plain(Range<Int>)
        case escaped
    }

    var topLevel: TopLevel = .other("nothing")
    var object: Member = .absent
    var id: Member = .absent
    var policyID: Member = .absent
    /// Whether "policy_id" is watched at all: only a create checks it, and a
    /// view need not pay for the comparisons.
    var watchesPolicyID = true
    /// One of the watched appeared twice (with plain keys; escaped keys leave
    /// the members `.escaped`, and the full parser decides).
    var duplicate = false

}

enum PaymentScanner {
    static func scan(_ bytes: [UInt8], watchingPolicyID: Bool = true) -> Result<PaymentScan, JSONParseError> {
        var none = NoMemberNotes()
        return scan(bytes, watchingPolicyID: watchingPolicyID, notes: &none)
    }

    /// The scan, with each top-level member's place also going to `notes`
    /// (a typed result's index: `MemberIndexNotes`).
    static func scan<Notes: MemberNotes>(
        _ bytes: [UInt8], watchingPolicyID: Bool = true, notes: inout Notes
    ) -> Result<PaymentScan, JSONParseError> {
        var result: Result<PaymentScan, JSONParseError> = .failure(JSONParseError(message: "empty", offset: 0))
        bytes.withUnsafeBufferPointer { buffer in
            do throws(JSONParseError) {
                result = .success(try scan(buffer, watchingPolicyID: watchingPolicyID, notes: &notes))
            } catch {
                result = .failure(error)
            }
        }
        return result
    }

    /// Whether `buffer[range]` is exactly `text`.
    @inline(__always)
    static func bytes(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, equal text: StaticString) -> Bool {
        guard range.count == text.utf8CodeUnitCount, range.lowerBound >= 0, range.upperBound <= buffer.count else {
            return false
        }
        let start = text.utf8Start
        for offset in 0..<range.count where buffer[range.lowerBound + offset] != start[offset] {
            return false
        }
        return true
    }

    /// Notes a watched member's value; a second one is a duplicate.
    @inline(__always)
    static func record(_ value: PaymentScan.Member, in member: inout PaymentScan.Member, duplicate: inout Bool) {
        switch member {
        case .absent: member = value
        case .escaped: break
        case .notAString, .plain: duplicate = true
        }
    }

    static func scan(_ buffer: UnsafeBufferPointer<UInt8>, watchingPolicyID: Bool = true) throws(JSONParseError) -> PaymentScan {
        var none = NoMemberNotes()
        return try scan(buffer, watchingPolicyID: watchingPolicyID, notes: &none)
    }

    static func scan<Notes: MemberNotes>(
        _ buffer: UnsafeBufferPointer<UInt8>, watchingPolicyID: Bool = true, notes: inout Notes
    ) throws(JSONParseError) -> PaymentScan {
        var cursor = JSONCursor(buffer: buffer)
        var result = PaymentScan()
        result.watchesPolicyID = watchingPolicyID
        cursor.skipWhitespace()
        // A top-level object directly, so that its members reach `notes`
        // (scanValue would do the same with nothing noted).
        if cursor.peek() == UInt8(ascii: "{") {
            result.topLevel = .object
            try cursor.scanObject(depth: 1, into: &result, notes: &notes)
        } else {
            try cursor.scanValue(depth: 0, into: &result)
        }
        try cursor.expectEnd()
        return result
    }
}

/// Where the top-level members are, noted while scanning (see `scanObject`).
protocol MemberNotes {
    /// `key` as scanned, `quoted` the key with its quotes, `value` the value's bytes.
    mutating func note(key: PaymentScan.Member, quoted: Range<Int>, value: Range<Int>)
}

/// The 1.0 calls' scan: nothing noted.
struct NoMemberNotes: MemberNotes {
    @inline(__always)
    mutating func note(key: PaymentScan.Member, quoted: Range<Int>, value: Range<Int>) {}
}

/// A typed result's index (`TopLevelMembers`).
struct MemberIndexNotes: MemberNotes {
    var entries: [TopLevelMembers.Entry] = []

    init() {
        entries.reserveCapacity(24)
    }

    mutating func note(key: PaymentScan.Member, quoted: Range<Int>, value: Range<Int>) {
        if case .plain(let range) = key {
            entries.append(TopLevelMembers.Entry(key: range, keyIsEscaped: false, value: value))
        } else {
            entries.append(TopLevelMembers.Entry(key: quoted, keyIsEscaped: true, value: value))
        }
    }
}

// Checking without building. The grammar pieces shared with JSONParser
// (literals, numbers, escapes, whitespace) are in JSONCursor.
extension JSONCursor {
    /// Scans one value. `depth` counts the containers around it, as in
    /// `JSONParser`, so both refuse the same nesting.
    mutating func scanValue(depth: Int, into result: inout PaymentScan) throws(JSONParseError) {
        guard let byte = peek() else { throw error("unexpected end of input") }
        let topLevel = depth == 0
        switch byte {
        case UInt8(ascii: "{"):
            if topLevel { result.topLevel = .object }
            try scanObject(depth: depth + 1, into: &result)
        case UInt8(ascii: "["):
            if topLevel { result.topLevel = .other("an array") }
            try scanArray(depth: depth + 1, into: &result)
        case UInt8(ascii: "\""):
            if topLevel { result.topLevel = .other("a string") }
            _ = try scanString()
        case UInt8(ascii: "t"):
            if topLevel { result.topLevel = .other("a boolean") }
            try expectLiteral("true")
        case UInt8(ascii: "f"):
            if topLevel { result.topLevel = .other("a boolean") }
            try expectLiteral("false")
        case UInt8(ascii: "n"):
            if topLevel { result.topLevel = .other("null") }
            try expectLiteral("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            if topLevel { result.topLevel = .other("a number") }
            _ = try skipNumber()
        default:
            throw error("unexpected character")
        }
    }

    mutating func scanObject(depth: Int, into result: inout PaymentScan) throws(JSONParseError) {
        var none = NoMemberNotes()
        try scanObject(depth: depth, into: &result, notes: &none)
    }

    /// An object; at the top level (`depth` 1) each member's key and value
    /// position also goes to `notes`. Generic so that the 1.0 calls' scan,
    /// specialised with `NoMemberNotes`, does none of that bookkeeping.
    mutating func scanObject<Notes: MemberNotes>(
        depth: Int, into result: inout PaymentScan, notes: inout Notes
    ) throws(JSONParseError) {
        guard depth <= JSONParser.maximumDepth else { throw error("nesting is too deep") }
        position += 1  // "{"
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            return
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let keyStart = position
            let key = try scanString()
            let keyEnd = position
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw error("expected ':' after a key") }
            position += 1
            skipWhitespace()
            if depth == 1 {
                let valueStart = position
                try scanTopLevelMember(key: key, depth: depth, into: &result)
                notes.note(key: key, quoted: keyStart..<keyEnd, value: valueStart..<position)
            } else {
                try scanValue(depth: depth, into: &result)
            }
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","):
                position += 1
            case UInt8(ascii: "}"):
                position += 1
                return
            default:
                throw error("expected ',' or '}' in an object")
            }
        }
    }

    /// A member of the top-level object: note "object", "id" and
    /// "policy_id", and a second appearance of any of them.
    mutating func scanTopLevelMember(key: PaymentScan.Member, depth: Int, into result: inout PaymentScan) throws(JSONParseError) {
        switch key {
        case .plain(let range):
            // By length first: most keys are none of the three, and are
            // passed over with one comparison.
            switch range.count {
            case 6 where PaymentScanner.bytes(buffer, range, equal: "object"):
                PaymentScanner.record(try scanWatchedValue(depth: depth, into: &result), in: &result.object, duplicate: &result.duplicate)
            case 2 where PaymentScanner.bytes(buffer, range, equal: "id"):
                PaymentScanner.record(try scanWatchedValue(depth: depth, into: &result), in: &result.id, duplicate: &result.duplicate)
            case 9 where result.watchesPolicyID && PaymentScanner.bytes(buffer, range, equal: "policy_id"):
                PaymentScanner.record(try scanWatchedValue(depth: depth, into: &result), in: &result.policyID, duplicate: &result.duplicate)
            default:
                try scanValue(depth: depth, into: &result)
            }
        case .escaped:
            // Rare: an escaped key could spell any of them. Mark what is not
            // yet known so that the caller decodes with the full parser.
            result.object = .escaped
            result.id = .escaped
            result.policyID = .escaped
            try scanValue(depth: depth, into: &result)
        default:
            try scanValue(depth: depth, into: &result)
        }
    }

    mutating func scanWatchedValue(depth: Int, into result: inout PaymentScan) throws(JSONParseError) -> PaymentScan.Member {
        if peek() == UInt8(ascii: "\"") { return try scanString() }
        try scanValue(depth: depth, into: &result)
        return .notAString
    }

    mutating func scanArray(depth: Int, into result: inout PaymentScan) throws(JSONParseError) {
        guard depth <= JSONParser.maximumDepth else { throw error("nesting is too deep") }
        position += 1  // "["
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            position += 1
            return
        }
        while true {
            skipWhitespace()
            try scanValue(depth: depth, into: &result)
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","):
                position += 1
            case UInt8(ascii: "]"):
                position += 1
                return
            default:
                throw error("expected ',' or ']' in an array")
            }
        }
    }

    /// Scans a string, checking escapes and UTF-8; returns its raw content
    /// range when it has no escapes.
    mutating func scanString() throws(JSONParseError) -> PaymentScan.Member {
        position += 1  // opening quote
        let start = position
        var escaped = false
        while true {
            skipPlainWords()
            while position < buffer.count, isPlainByte(buffer[position]) { position += 1 }
            guard position < buffer.count else { throw error("unterminated string") }
            let byte = buffer[position]
            switch byte {
            case UInt8(ascii: "\""):
                let end = position
                position += 1
                return escaped ? .escaped : .plain(start..<end)
            case UInt8(ascii: "\\"):
                escaped = true
                _ = try readEscape()
            case 0..<0x20:
                throw error("control character in a string")
            default:
                try scanUTF8Sequence(lead: byte)
            }
        }
    }

    /// A printable ASCII byte other than a quote or a backslash.
    @inline(__always)
    func isPlainByte(_ byte: UInt8) -> Bool {
        byte &- 0x20 < 0x60 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\")
    }

    /// Skips 8 bytes at a time while every byte is a plain ASCII string
    /// character (not a quote, backslash, control character or non-ASCII):
    /// most of a payment's bytes are, and a byte-by-byte loop costs about
    /// ten instructions a byte.
    @inline(__always)
    mutating func skipPlainWords() {
        guard let base = buffer.baseAddress else { return }
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while buffer.count - position >= 8 {
            let word = UnsafeRawPointer(base + position).loadUnaligned(as: UInt64.self)
            // With no high bit set, (x - n) & ~x has a high bit where a byte < n.
            let belowSpace = (word &- ones &* 0x20) & ~word
            let quoteOrBackslash = hasZeroByte(word ^ (ones &* 0x22)) | hasZeroByte(word ^ (ones &* 0x5C))
            if (word | belowSpace | quoteOrBackslash) & highs != 0 { return }
            position += 8
        }
    }

    @inline(__always)
    func hasZeroByte(_ word: UInt64) -> UInt64 {
        (word &- 0x0101_0101_0101_0101) & ~word & 0x8080_8080_8080_8080
    }

    /// One multi-byte UTF-8 sequence, by the table of well-formed sequences
    /// (Unicode 15, table 3-7): no overlong forms, no surrogates, ≤ U+10FFFF.
    mutating func scanUTF8Sequence(lead: UInt8) throws(JSONParseError) {
        let secondRange: ClosedRange<UInt8>
        let continuations: Int
        switch lead {
        case 0xC2...0xDF: secondRange = 0x80...0xBF; continuations = 1
        case 0xE0: secondRange = 0xA0...0xBF; continuations = 2
        case 0xE1...0xEC, 0xEE...0xEF: secondRange = 0x80...0xBF; continuations = 2
        case 0xED: secondRange = 0x80...0x9F; continuations = 2
        case 0xF0: secondRange = 0x90...0xBF; continuations = 3
        case 0xF1...0xF3: secondRange = 0x80...0xBF; continuations = 3
        case 0xF4: secondRange = 0x80...0x8F; continuations = 3
        default: throw error("string is not valid UTF-8")
        }
        guard buffer.count - position > continuations else { throw error("string is not valid UTF-8") }
        guard secondRange.contains(buffer[position + 1]) else { throw error("string is not valid UTF-8") }
        var offset = 2
        while offset <= continuations {
            guard (0x80...0xBF).contains(buffer[position + offset]) else { throw error("string is not valid UTF-8") }
            offset += 1
        }
        position += continuations + 1
    }
}
