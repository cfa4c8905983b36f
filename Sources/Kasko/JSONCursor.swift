/// A position in untrusted JSON bytes, and the grammar pieces that both
/// readers of JSON share: `JSONParser` (which builds values) and
/// `PaymentScanner` (which only checks, without allocating). Sharing them
/// keeps the two in exact agreement on what is valid JSON, which a fuzz
/// target checks as well.
///
/// Every index is checked before use: the bytes come from the network or
/// from the caller, and a trap here would kill the host process.
struct JSONCursor {
    let buffer: UnsafeBufferPointer<UInt8>
    var position = 0

    init(buffer: UnsafeBufferPointer<UInt8>) {
        self.buffer = buffer
    }

    func error(_ message: String) -> JSONParseError {
        JSONParseError(message: message, offset: position)
    }

    @inline(__always)
    func peek() -> UInt8? {
        position < buffer.count ? buffer[position] : nil
    }

    mutating func skipWhitespace() {
        while position < buffer.count {
            switch buffer[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    /// After the value: nothing but whitespace may follow.
    mutating func expectEnd() throws(JSONParseError) {
        skipWhitespace()
        if position < buffer.count {
            throw error("unexpected data after the JSON value")
        }
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard buffer.count - position >= count else { throw error("invalid literal") }
        let start = literal.utf8Start
        for offset in 0..<count where buffer[position + offset] != start[offset] {
            throw error("invalid literal")
        }
        position += count
    }

    /// Checks one number (RFC 8259: no leading zeros, no bare '.', an
    /// exponent needs digits) and returns where its text is.
    mutating func skipNumber() throws(JSONParseError) -> Range<Int> {
        let start = position
        if peek() == UInt8(ascii: "-") { position += 1 }
        guard let first = peek(), isDigit(first) else { throw error("invalid number") }
        position += 1
        if first != UInt8(ascii: "0") {
            skipDigits()
        }
        if peek() == UInt8(ascii: ".") {
            position += 1
            guard let digit = peek(), isDigit(digit) else { throw error("invalid number") }
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard let digit = peek(), isDigit(digit) else { throw error("invalid number") }
            skipDigits()
        }
        return start..<position
    }

    @inline(__always)
    func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    mutating func skipDigits() {
        while let byte = peek(), isDigit(byte) { position += 1 }
    }

    /// Reads one escape, the cursor on its backslash, and returns the
    /// character it stands for. `\u` escapes must pair their surrogates.
    mutating func readEscape() throws(JSONParseError) -> Unicode.Scalar {
        position += 1  // backslash
        guard let escape = peek() else { throw error("unterminated string") }
        position += 1
        switch escape {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"): return try readUnicodeEscape()
        default: throw error("invalid escape in a string")
        }
    }

    /// The four hex digits after `\u`, and a following low surrogate escape
    /// when the first is a high surrogate.
    private mutating func readUnicodeEscape() throws(JSONParseError) -> Unicode.Scalar {
        let first = try readHex4()
        if first >= 0xD800 && first <= 0xDBFF {
            guard buffer.count - position >= 6,
                  buffer[position] == UInt8(ascii: "\\"),
                  buffer[position + 1] == UInt8(ascii: "u") else {
                throw error("unpaired surrogate in a string")
            }
            position += 2
            let second = try readHex4()
            guard second >= 0xDC00 && second <= 0xDFFF else {
                throw error("unpaired surrogate in a string")
            }
            let combined = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
            guard let scalar = Unicode.Scalar(combined) else { throw error("invalid unicode escape") }
            return scalar
        }
        guard let scalar = Unicode.Scalar(first) else { throw error("unpaired surrogate in a string") }
        return scalar
    }

    private mutating func readHex4() throws(JSONParseError) -> UInt32 {
        guard buffer.count - position >= 4 else { throw error("invalid unicode escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = buffer[position]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a")) + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A")) + 10
            default: throw error("invalid unicode escape")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }
}
