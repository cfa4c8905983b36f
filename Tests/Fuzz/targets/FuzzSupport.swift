// Shared by the fuzz targets (compiled into each, inside the Kasko module).
#if canImport(Glibc)
import Glibc
#endif

/// Crashes on purpose, so that libFuzzer records the input. Only fuzz
/// binaries contain this; the library itself never traps.
func fuzzInvariantBroken(_ what: String) -> Never {
    fputs("fuzz invariant broken: \(what)\n", stderr)
    abort()
}

func checkErrorJSON(_ error: KaskoError) {
    guard case .object = (try? JSONParser.parse(error.json)) ?? .null else {
        fuzzInvariantBroken("error object is not valid JSON: \(error.json)")
    }
}
