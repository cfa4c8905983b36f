// libFuzzer target: the configuration parser, fed arbitrary text. Beyond
// "does not crash": a refusal is a valid JSON error object of status
// KASKO_ERR_INVALID_ARGUMENT.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfiguration(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    // The C layer refuses invalid UTF-8 before parsing; mirror that.
    guard let text = String(validating: bytes, as: UTF8.self) else { return 0 }
    do {
        let configuration = try Configuration(json: text)
        guard configuration.maxRetries >= 0, configuration.timeoutMilliseconds > 0 else {
            fuzzInvariantBroken("accepted an out-of-range setting")
        }
    } catch {
        guard error.status == .invalidArgument else { fuzzInvariantBroken("config error is not INVALID_ARGUMENT") }
        checkErrorJSON(error)
    }
    return 0
}
