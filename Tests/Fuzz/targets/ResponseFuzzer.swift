// libFuzzer target: the response parser. The first byte picks the HTTP
// status and the operation, the rest is the body, as a server could send it.
// Invariants checked beyond "does not crash": an accepted payment is passed
// on byte for byte, every error object the library makes is valid JSON, and
// the allocation-free PaymentScanner agrees with the full JSONParser on every
// input (which documents it accepts), and a success is exactly a payment,
// without duplicated watched members, that answers the question asked; and
// the result members' index agrees with the parser too.

private let statuses = [200, 201, 400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504, 302]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzResponse(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard let selector = input.first else { return 0 }
    let status = statuses[Int(selector) % statuses.count]
    let body = Array(input.dropFirst())
    let response = HTTPResponse(status: status, body: body, requestID: "req_fuzz", retryAfterSeconds: nil)
    let parsed = try? JSONParser.parse(body)
    let scanned = try? body.withUnsafeBufferPointer { try PaymentScanner.scan($0) }
    guard (parsed == nil) == (scanned == nil) else {
        fuzzInvariantBroken("scanner and parser disagree on validity")
    }
    // The typed results' member index (kasko_result_member_*) finds exactly
    // what the parser finds: every member, absent names, duplicates.
    let index = body.withUnsafeBufferPointer { TopLevelMembers(json: $0) }
    if case .object(let all)? = parsed {
        guard let index else { fuzzInvariantBroken("the member index refused an object the parser accepts") }
        for member in all {
            let copies = all.filter { $0.key == member.key }.count
            guard index.lookup(member.key) == (copies == 1 ? .value(member.value) : .ambiguous) else {
                fuzzInvariantBroken("the member index and the parser disagree on a member")
            }
        }
        guard index.lookup("\u{1}no such member") == .absent else { fuzzInvariantBroken("found an absent member") }
    } else if index != nil {
        fuzzInvariantBroken("the member index accepted what is not a JSON object")
    }
    // Ask for what the body holds (half the time), so that the match checks
    // are exercised on both sides.
    let askMatching = selector & 0x40 == 0
    let parsedID = parsed?["id"]?.stringValue
    let parsedPolicy = parsed?["policy_id"]
    let operation: Operation = selector & 0x80 == 0
        ? .createPayment(policyID: askMatching ? (parsedPolicy?.stringValue ?? "tpol_1") : "tpol_1")
        : .getPayment(id: askMatching ? (parsedID ?? "t1") : "t1")
    var members: [JSONMember] = []
    if case .object(let all)? = parsed { members = all }
    // A create also checks policy_id, so a second one is refused there only.
    var watched = ["object", "id"]
    if case .createPayment = operation { watched.append("policy_id") }
    let duplicated = watched.contains { name in members.filter { $0.key == name }.count > 1 }
    let answersTheQuestion: Bool
    switch operation {
    case .getPayment(let id): answersTheQuestion = parsedID == id
    case .createPayment(let policy):
        switch parsedPolicy {
        case nil, .null?: answersTheQuestion = true
        case .string(let text)?: answersTheQuestion = text == policy
        default: answersTheQuestion = false
        }
    case .createQuote, .createOffer, .getOffer, .getPolicy:
        // Not asked here: CheckoutFuzzer covers the checkout's answers.
        answersTheQuestion = false
    }
    let isPayment = parsed?["object"]?.stringValue == "payment" && !(parsedID ?? "").isEmpty
    let acceptable = isPayment && !duplicated && answersTheQuestion
    switch ResponseInterpreter.interpret(response, for: operation) {
    case .success(let payment):
        guard payment.bytes == body else { fuzzInvariantBroken("payment bytes changed") }
        // A typed result's index comes from the validating scan: the same answers.
        guard case .success(let indexed) = ResponseInterpreter.interpret(response, for: operation, indexingMembers: true),
              let fromScan = indexed.members else {
            fuzzInvariantBroken("indexing changed the verdict")
        }
        for member in members {
            let copies = members.filter { $0.key == member.key }.count
            guard fromScan.lookup(member.key) == (copies == 1 ? .value(member.value) : .ambiguous) else {
                fuzzInvariantBroken("the scan's member index and the parser disagree")
            }
        }
        guard acceptable, payment.id == parsedID else {
            fuzzInvariantBroken("accepted something that is not the payment asked for")
        }
    case .failure(let failed):
        checkErrorJSON(failed.error)
        if (200...299).contains(status) && acceptable {
            fuzzInvariantBroken("refused a payment the parser accepts")
        }
        if failed.error.outcome == .notSent {
            fuzzInvariantBroken("an answered request reported as not sent")
        }
    }
    return 0
}
