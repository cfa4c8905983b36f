import Kasko
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Moving strings across the C boundary. Inputs are bounded and checked
/// for UTF-8; outputs are malloc'd copies that the caller releases with
/// kasko_string_free.
enum CStrings {
    /// Configuration and request documents are a few hundred bytes; anything
    /// near this limit is a mistake, and is refused without being read past it.
    static let maximumDocumentBytes = 64 * 1024

    static func read(_ pointer: UnsafePointer<CChar>?, name: String, limit: Int) throws(KaskoError) -> String {
        guard let pointer else {
            throw .invalidArgument("\(name) is NULL")
        }
        let length = strnlen(pointer, limit + 1)
        guard length <= limit else {
            throw .invalidArgument("\(name) is longer than \(limit) bytes")
        }
        let bytes = UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self)
        guard let text = String(validating: UnsafeBufferPointer(start: bytes, count: length), as: UTF8.self) else {
            throw .invalidArgument("\(name) is not valid UTF-8")
        }
        return text
    }

    /// A NUL-terminated malloc'd copy, or nil if memory ran out.
    static func copy(_ bytes: [UInt8]) -> UnsafeMutablePointer<CChar>? {
        bytes.withUnsafeBufferPointer { copy($0) }
    }

    static func copy(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeMutablePointer<CChar>? {
        let count = bytes.count
        guard let raw = malloc(count + 1) else { return nil }
        if let source = bytes.baseAddress, count > 0 {
            memcpy(raw, source, count)
        }
        raw.storeBytes(of: 0, toByteOffset: count, as: UInt8.self)
        return raw.assumingMemoryBound(to: CChar.self)
    }

    static func copy(_ text: String) -> UnsafeMutablePointer<CChar>? {
        var text = text
        return text.withUTF8 { copy($0) }
    }

    /// Static NUL-terminated text: Swift emits string literals with a
    /// terminating NUL, so `utf8Start` is a valid C string for the process's life.
    static func staticText(_ text: StaticString) -> UnsafePointer<CChar> {
        UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}

/// Stores a call's outcome in `*out` and returns its status. A success is
/// the payment already copied into a C string (nil: memory ran out). If the
/// outcome's JSON cannot be allocated, `*out` is NULL and the status is
/// KASKO_ERR_INTERNAL: the one case where no JSON accompanies an error.
func deliver(
    _ result: Result<UnsafeMutablePointer<CChar>?, KaskoError>, to out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
) -> KaskoCStatus {
    switch result {
    case .success(let text):
        out.pointee = text
        return text == nil ? .errInternal : .ok
    case .failure(let error):
        guard let text = CStrings.copy(error.json) else {
            out.pointee = nil
            return .errInternal
        }
        out.pointee = text
        return KaskoCStatus(error.status)
    }
}
