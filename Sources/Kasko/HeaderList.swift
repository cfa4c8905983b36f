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

    init(_ headers: [String]) throws(TransportFailure) {
        for header in headers {
            guard let appended = curl_slist_append(list, header) else {
                wipeAndFree()
                throw TransportFailure(
                    kind: .local, curlCode: Int(CURLE_OUT_OF_MEMORY.rawValue),
                    message: "could not allocate request headers", httpStatus: nil, requestID: nil, timedOut: false)
            }
            list = appended
        }
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
