// libFuzzer target: webhook signatures (Webhook.verify, the core of
// kasko_webhook_verify). The first input byte says how many of the next
// bytes are the header (the rest is the body). Beyond "does not crash": a
// header of the documented form ("sha1=" and 40 hex digits, checked here
// independently) is answered with a match or a mismatch, anything else is
// an invalid argument; the answer does not depend on the digits' case; and
// the secret "fuzz" never matches a body altered by one appended byte.

func isDocumentedForm(_ header: [UInt8]) -> Bool {
    guard header.count == 45, Array(header[0..<5]) == Array("sha1=".utf8) else { return false }
    return header[5...].allSatisfy { byte in
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }
}

func verifyBytes(_ secret: [UInt8], _ body: [UInt8], _ header: [UInt8]) -> Result<Void, Webhook.Failure> {
    secret.withUnsafeBytes { key in
        body.withUnsafeBytes { payload in
            header.withUnsafeBytes { value in Webhook.verify(secret: key, body: payload, header: value) }
        }
    }
}

func verdict(_ result: Result<Void, Webhook.Failure>) -> String {
    switch result {
    case .success: return "match"
    case .failure(.badSignature): return "mismatch"
    case .failure(.invalidArgument): return "invalid"
    case .failure(.internalFailure): return "internal"
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWebhook(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let first = bytes.first else { return 0 }
    let headerLength = min(Int(first), bytes.count - 1)
    let header = Array(bytes[1..<(1 + headerLength)])
    let body = Array(bytes[(1 + headerLength)...])
    let secret = Array("fuzz".utf8)

    let answer = verdict(verifyBytes(secret, body, header))
    if isDocumentedForm(header) {
        guard answer == "match" || answer == "mismatch" else {
            fuzzInvariantBroken("a well-formed header was answered \(answer)")
        }
    } else if answer != "invalid" {
        fuzzInvariantBroken("a malformed header was answered \(answer)")
    }
    let lower = header.map { (UInt8(ascii: "A")...UInt8(ascii: "F")).contains($0) ? $0 &+ 32 : $0 }
    let upper = header.enumerated().map { index, byte in
        index >= 5 && (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte) ? byte &- 32 : byte
    }
    guard verdict(verifyBytes(secret, body, lower)) == answer || !isDocumentedForm(header),
          verdict(verifyBytes(secret, body, upper)) == answer || !isDocumentedForm(header) else {
        fuzzInvariantBroken("the digits' case changed the answer")
    }
    if answer == "match" {
        guard verdict(verifyBytes(secret, body + [0], header)) == "mismatch" else {
            fuzzInvariantBroken("a body with a byte appended still matches")
        }
    }
    guard verdict(verifyBytes([], body, header)) == "invalid" else {
        fuzzInvariantBroken("an empty secret was not refused")
    }
    return 0
}
