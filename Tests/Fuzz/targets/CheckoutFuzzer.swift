// libFuzzer target: the checkout's own checks (issue 14). The first byte
// picks what is fuzzed: a quote or offer request (CheckoutRequest), or an
// answer to a quote, offer or policy call (CheckoutAnswers) with an HTTP
// status. Invariants beyond "does not crash": an accepted request is the
// caller's bytes unchanged and has every required member once with its
// type; a refusal is INVALID_ARGUMENT; an accepted answer is the body byte
// for byte, an object whose identifying member is a non-empty string given
// once (for a view, the id asked for); a refused one is never "not sent"
// and its error object is valid JSON.

private let statuses = [200, 201, 400, 401, 404, 409, 422, 429, 500, 503]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckout(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard let selector = input.first else { return 0 }
    let body = Array(input.dropFirst())
    let parsed = try? JSONParser.parse(body)
    if selector & 0x01 == 0 {
        guard let text = String(validating: body, as: UTF8.self) else { return 0 }
        let isQuote = selector & 0x02 == 0
        let required = isQuote ? CheckoutRequest.quoteRequired : CheckoutRequest.offerRequired
        do {
            let request = try isQuote ? CheckoutRequest.quote(json: text) : CheckoutRequest.offer(json: text)
            guard request.body == body else { fuzzInvariantBroken("a request's bytes changed") }
            guard case .object(let members)? = parsed else { fuzzInvariantBroken("accepted a request that is not an object") }
            for (name, type) in required {
                let named = members.filter { $0.key == name }
                guard named.count == 1 else { fuzzInvariantBroken("accepted a request without \(name) once") }
                switch (type, named[0].value) {
                case (.string, .string(let value)) where !value.isEmpty: break
                case (.object, .object): break
                default: fuzzInvariantBroken("accepted a request whose \(name) has the wrong type")
                }
            }
        } catch {
            guard error.status == .invalidArgument else { fuzzInvariantBroken("a refused request is not INVALID_ARGUMENT") }
            checkErrorJSON(error)
        }
        return 0
    }
    let status = statuses[Int(selector >> 4) % statuses.count]
    let askedID = parsed?["id"]?.stringValue.flatMap { selector & 0x08 == 0 ? $0 : nil } ?? "tpol_1"
    let operations: [Operation] = [.createQuote, .createOffer, .getOffer(id: askedID), .getPolicy(id: askedID)]
    let operation = operations[Int(selector >> 1) % operations.count]
    let response = HTTPResponse(status: status, body: body, requestID: "req_fuzz", retryAfterSeconds: nil)
    switch ResponseInterpreter.interpret(response, for: operation) {
    case .success(let answer):
        guard (200...299).contains(status) else { fuzzInvariantBroken("an error status accepted") }
        guard answer.bytes == body else { fuzzInvariantBroken("an answer's bytes changed") }
        guard case .object(let members)? = parsed else { fuzzInvariantBroken("accepted an answer that is not an object") }
        let key = CheckoutAnswers.identifyingMember(operation)
        let named = members.filter { $0.key == key }
        guard named.count == 1, let value = named[0].value.stringValue, !value.isEmpty, answer.id == value else {
            fuzzInvariantBroken("accepted an answer without its \(key) once")
        }
        switch operation {
        case .getOffer(let id), .getPolicy(let id):
            guard value == id else { fuzzInvariantBroken("accepted an answer about another id") }
        default: break
        }
    case .failure(let failed):
        checkErrorJSON(failed.error)
        if failed.error.outcome == .notSent { fuzzInvariantBroken("an answered request reported as not sent") }
    }
    return 0
}
