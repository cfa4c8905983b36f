import CCurl
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A libcurl header list built once per client and read by every request.
/// It may hold the secret key, so its bytes are overwritten before it is
/// freed rather than left in freed heap memory.
final class HeaderList: @unchecked Sendable {
    private(set) var list: UnsafeMutablePointer<curl_slist>?

    /// `secretHeader`: a header whose value is a secret, e.g. ("Authorization:
    /// Bearer ", key). It is assembled in memory that is wiped right after
    /// libcurl copies it, never in a Swift string.
    init(_ headers: [String], secretHeader: (prefix: String, secret: SecretBytes)? = nil) throws(TransportFailure) {
        for header in headers {
            try append(header)
        }
        if let (prefix, secret) = secretHeader {
            let prefixBytes = Array(prefix.utf8)
            let length = prefixBytes.count + secret.count
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: length + 1)
            defer {
                explicit_bzero(buffer, length + 1)
                buffer.deallocate()
            }
            UnsafeMutableRawPointer(buffer).copyMemory(from: prefixBytes, byteCount: prefixBytes.count)
            secret.withBytes { bytes in
                if let source = bytes.baseAddress {
                    (UnsafeMutableRawPointer(buffer) + prefixBytes.count).copyMemory(from: source, byteCount: bytes.count)
                }
            }
            buffer[length] = 0
            try append(buffer)
        }
    }

    private func append(_ header: UnsafePointer<CChar>) throws(TransportFailure) {
        guard appendIfPossible(header) else { throw allocationFailure() }
    }

    private func append(_ header: String) throws(TransportFailure) {
        guard header.withCString(appendIfPossible) else { throw allocationFailure() }
    }

    private func appendIfPossible(_ header: UnsafePointer<CChar>) -> Bool {
        guard let appended = curl_slist_append(list, header) else { return false }
        list = appended
        return true
    }

    private func allocationFailure() -> TransportFailure {
        wipeAndFree()
        return .local("could not allocate request headers")
    }

    deinit {
        wipeAndFree()
    }

    private func wipeAndFree() {
        var node = list
        while let current = node {
            if let data = current.pointee.data {
                // explicit_bzero: a plain memset before free may be optimised away.
                explicit_bzero(data, strlen(data))
            }
            node = current.pointee.next
        }
        curl_slist_free_all(list)
        list = nil
    }
}
