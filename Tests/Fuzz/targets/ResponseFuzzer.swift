// libFuzzer target: the response parser. The first byte picks the HTTP
// status and the operation, the rest is the body, as a server could send it.
// Invariants checked beyond "does not crash": an accepted payment is passed
// on byte for byte, every error object the library makes is valid JSON, and
// the allocation-free PaymentScanner agrees with the full JSONParser on every
// input (which documents it accepts, and what their "object" and "id" are).

private let statuses = [200, 201, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504, 302]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzResponse(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard let selector = input.first else { return 0 }
    let status = statuses[Int(selector) % statuses.count]
    let operation: Operation = selector & 0x80 == 0 ? .createPayment : .getPayment(id: "t1")
    let body = Array(input.dropFirst())
    let response = HTTPResponse(status: status, body: body, requestID: "req_fuzz", retryAfterSeconds: nil)
    let parsed = try? JSONParser.parse(body)
    let scanned = try? body.withUnsafeBufferPointer { try PaymentScanner.scan($0) }
    guard (parsed == nil) == (scanned == nil) else {
        fuzzInvariantBroken("scanner and parser disagree on validity")
    }
    let isPayment = parsed?["object"]?.stringValue == "payment" && !(parsed?["id"]?.stringValue ?? "").isEmpty
    switch ResponseInterpreter.interpret(response, for: operation) {
    case .success(let payment):
        guard payment.bytes == body else { fuzzInvariantBroken("payment bytes changed") }
        guard isPayment, payment.id == parsed?["id"]?.stringValue else {
            fuzzInvariantBroken("accepted something the parser does not see as a payment")
        }
    case .failure(let error):
        checkErrorJSON(error)
        if (200...299).contains(status) && isPayment {
            fuzzInvariantBroken("refused a payment the parser accepts")
        }
    }
    return 0
}
