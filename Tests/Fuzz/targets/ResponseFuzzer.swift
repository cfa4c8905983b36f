// libFuzzer target: the response parser. The first byte picks the HTTP
// status and the operation, the rest is the body, as a server could send it.
// Invariants checked beyond "does not crash": an accepted payment is passed
// on byte for byte, and every error object the library makes is valid JSON.

private let statuses = [200, 201, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504, 302]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzResponse(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard let selector = input.first else { return 0 }
    let status = statuses[Int(selector) % statuses.count]
    let operation: Operation = selector & 0x80 == 0 ? .createPayment : .getPayment(id: "t1")
    let body = Array(input.dropFirst())
    let response = HTTPResponse(status: status, body: body, requestID: "req_fuzz", retryAfterSeconds: nil)
    switch ResponseInterpreter.interpret(response, for: operation) {
    case .success(let payment):
        guard payment.bytes == body else { fuzzInvariantBroken("payment bytes changed") }
    case .failure(let error):
        checkErrorJSON(error)
    }
    return 0
}
