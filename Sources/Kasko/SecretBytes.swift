#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Bytes that must not outlive their owner in memory: a copy of a key kept
/// outside Swift's string storage (which cannot be wiped) and overwritten
/// with zeros when the owner is freed.
final class SecretBytes: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<UInt8>

    init(_ text: String) {
        let utf8 = text.utf8
        storage = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: utf8.count)
        _ = storage.initialize(from: utf8)
    }

    deinit {
        if let base = storage.baseAddress {
            // explicit_bzero: a plain memset before free may be optimised away.
            explicit_bzero(base, storage.count)
        }
        storage.deallocate()
    }

    var count: Int { storage.count }

    func withBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try body(UnsafeBufferPointer(storage))
    }
}
