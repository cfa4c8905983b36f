// libFuzzer target: the request validator (create bodies and payment ids).
// Beyond "does not crash": an accepted request's body parses back to the same
// four fields, and an accepted payment id is only [A-Za-z0-9_-]{1,128}.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRequest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    guard let text = String(validating: bytes, as: UTF8.self) else { return 0 }
    do {
        let request = try PaymentRequest(json: text)
        let echoed = try JSONParser.parse(request.bodyJSON)
        guard echoed["token"]?.stringValue == request.token, echoed["provider"]?.stringValue == request.provider,
              echoed["method"]?.stringValue == request.method, echoed["policy_id"]?.stringValue == request.policyID else {
            fuzzInvariantBroken("request body does not round-trip")
        }
    } catch let error as KaskoError {
        checkErrorJSON(error)
    } catch {
        fuzzInvariantBroken("the body the library wrote is not JSON: \(error)")
    }
    do {
        let id = try PaymentID(text)
        guard (1...128).contains(id.value.utf8.count), id.value.utf8.allSatisfy(PaymentID.isAllowed) else {
            fuzzInvariantBroken("accepted a bad payment id")
        }
    } catch {
        checkErrorJSON(error)
    }
    return 0
}
