import CCurl
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Settings every request of a client shares, applied once per easy handle.
struct TransportSettings {
    let userAgent: String
    let connectTimeoutMilliseconds: Int
    let timeoutMilliseconds: Int
    let caBundlePath: String?
    let proxy: String?
    let maximumBodyBytes: Int
}

/// Owns one libcurl easy handle and the buffers its callbacks fill. As in
/// swift-corelibs-foundation's EasyHandle, libcurl's C callbacks find this
/// object again through an unretained `Unmanaged` pointer set as their
/// userdata; the object outlives the handle, so the pointer stays valid.
///
/// An easy handle is used by one thread at a time: `HandlePool` lends it out.
final class EasyHandle {
    private let handle: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private let maximumBodyBytes: Int

    // Filled by the callbacks during `perform`, reset before each request.
    fileprivate var body: [UInt8] = []
    fileprivate var bodyTooLarge = false
    fileprivate var requestID: String?
    fileprivate var retryAfterSeconds: Int?

    init(settings: TransportSettings, share: UnsafeMutablePointer<ccurl_locked_share>) throws(TransportFailure) {
        guard let handle = curl_easy_init() else {
            throw TransportFailure(
                kind: .local, curlCode: Int(CURLE_OUT_OF_MEMORY.rawValue), message: "curl_easy_init failed",
                httpStatus: nil, requestID: nil, timedOut: false)
        }
        self.handle = handle
        maximumBodyBytes = settings.maximumBodyBytes
        errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        body.reserveCapacity(16 * 1024)
        try configure(settings, share: share)
    }

    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }

    private func configure(_ settings: TransportSettings, share: UnsafeMutablePointer<ccurl_locked_share>) throws(TransportFailure) {
        let me = Unmanaged.passUnretained(self).toOpaque()
        var results: [CURLcode] = [
            ccurl_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer),
            // Signals are the host's business; without this, DNS timeouts use SIGALRM.
            ccurl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1),
            ccurl_easy_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0),
            ccurl_easy_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"),
            ccurl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1),
            ccurl_easy_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2),
            ccurl_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, settings.connectTimeoutMilliseconds),
            ccurl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, settings.timeoutMilliseconds),
            ccurl_easy_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1),
            ccurl_easy_setopt_string(handle, CURLOPT_USERAGENT, settings.userAgent),
            // Refuse an announced oversized body before reading it.
            ccurl_easy_setopt_off_t(handle, CURLOPT_MAXFILESIZE_LARGE, curl_off_t(settings.maximumBodyBytes)),
            ccurl_easy_setopt_share(handle, share.pointee.share),
            ccurl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, me),
            ccurl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, me),
            ccurl_easy_setopt_write_function(handle, easyHandleWriteCallback),
            ccurl_easy_setopt_header_function(handle, easyHandleHeaderCallback),
        ]
        if let path = settings.caBundlePath {
            results.append(ccurl_easy_setopt_string(handle, CURLOPT_CAINFO, path))
        }
        if let proxy = settings.proxy {
            results.append(ccurl_easy_setopt_string(handle, CURLOPT_PROXY, proxy))
        }
        if let failed = results.first(where: { $0 != CURLE_OK }) {
            throw TransportFailure(
                kind: .local, curlCode: Int(failed.rawValue),
                message: "libcurl refused an option: \(String(cString: curl_easy_strerror(failed)))",
                httpStatus: nil, requestID: nil, timedOut: false)
        }
    }

    /// Sends `request` with `headers` and waits for the whole response.
    func perform(_ request: HTTPRequest, headers: UnsafeMutablePointer<curl_slist>?) -> Result<HTTPResponse, TransportFailure> {
        body.removeAll(keepingCapacity: true)
        bodyTooLarge = false
        requestID = nil
        retryAfterSeconds = nil
        errorBuffer[0] = 0

        var setup = ccurl_easy_setopt_string(handle, CURLOPT_URL, request.url)
        if setup == CURLE_OK { setup = ccurl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, headers) }
        // A create always goes out on a new connection. On a reused one that
        // dies before any answer, libcurl silently sends the request again
        // (whatever the method), and a create that the server had already
        // carried out would then charge twice. On a new connection libcurl
        // never replays; the connection is still kept for later views.
        if setup == CURLE_OK {
            setup = ccurl_easy_setopt_long(handle, CURLOPT_FRESH_CONNECT, request.method == .post ? 1 : 0)
        }
        let code: CURLcode
        switch request.method {
        case .get:
            if setup == CURLE_OK { setup = ccurl_easy_setopt_long(handle, CURLOPT_HTTPGET, 1) }
            code = setup == CURLE_OK ? curl_easy_perform(handle) : setup
        case .post:
            code = request.body.withUnsafeBufferPointer { bytes in
                // POSTFIELDS is not copied: it must stay valid until perform returns.
                var step = setup
                if step == CURLE_OK { step = ccurl_easy_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count)) }
                if step == CURLE_OK {
                    step = ccurl_easy_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
                }
                guard step == CURLE_OK else { return step }
                let result = curl_easy_perform(handle)
                _ = ccurl_easy_setopt_pointer(handle, CURLOPT_POSTFIELDS, nil)
                return result
            }
        }

        var status = 0
        var statusCode: Int = 0
        if ccurl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK {
            statusCode = status
        }
        if code == CURLE_OK {
            return .success(HTTPResponse(
                status: statusCode, body: body, requestID: requestID, retryAfterSeconds: retryAfterSeconds))
        }
        return .failure(failure(for: code, httpStatus: statusCode == 0 ? nil : statusCode))
    }

    private func failure(for code: CURLcode, httpStatus: Int?) -> TransportFailure {
        let detail = errorBuffer[0] != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
        var requestBytes = 0
        _ = ccurl_easy_getinfo_long(handle, CURLINFO_REQUEST_SIZE, &requestBytes)
        let kind: TransportFailure.Kind
        switch code {
        case CURLE_WRITE_ERROR where bodyTooLarge, CURLE_FILESIZE_EXCEEDED:
            kind = .bodyTooLarge
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT,
             CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT:
            kind = .notSent
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED,
             CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR,
             CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_SHUTDOWN_FAILED:
            kind = .tls
        case CURLE_OPERATION_TIMEDOUT where requestBytes == 0:
            // Timed out before the request was written: during DNS or connect.
            kind = .notSent
        case CURLE_OUT_OF_MEMORY, CURLE_BAD_FUNCTION_ARGUMENT:
            kind = .local
        default:
            kind = .noAnswer
        }
        let message: String
        switch kind {
        case .bodyTooLarge:
            message = "response body is larger than \(maximumBodyBytes) bytes"
        default:
            message = "\(detail) (curl error \(code.rawValue))"
        }
        return TransportFailure(
            kind: kind, curlCode: Int(code.rawValue), message: message, httpStatus: httpStatus,
            requestID: requestID, timedOut: code == CURLE_OPERATION_TIMEDOUT)
    }

    fileprivate func appendBody(_ data: UnsafeRawBufferPointer) -> Bool {
        guard body.count + data.count <= maximumBodyBytes else {
            bodyTooLarge = true
            return false
        }
        body.append(contentsOf: data)
        return true
    }

    fileprivate func receiveHeaderLine(_ line: UnsafeRawBufferPointer) {
        // A new status line starts a new response (after a 100 Continue, say).
        if line.starts(with: "HTTP/".utf8) {
            requestID = nil
            retryAfterSeconds = nil
            return
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
        let name = line[..<colon]
        var value = line[(colon + 1)...]
        while let first = value.first, first == 0x20 || first == 0x09 { value = value.dropFirst() }
        while let last = value.last, last == 0x20 || last == 0x09 || last == 0x0D || last == 0x0A { value = value.dropLast() }
        if asciiCaseInsensitiveEquals(name, "x-request-id") {
            requestID = String(validating: value, as: UTF8.self).map { String($0.prefix(200)) }
        } else if asciiCaseInsensitiveEquals(name, "retry-after") {
            // Only the delay-seconds form; an HTTP date is treated as absent.
            if let text = String(validating: value, as: UTF8.self), let seconds = Int(text), seconds >= 0 {
                retryAfterSeconds = seconds
            }
        }
    }
}

private func asciiCaseInsensitiveEquals(_ bytes: Slice<UnsafeRawBufferPointer>, _ lowercase: String) -> Bool {
    guard bytes.count == lowercase.utf8.count else { return false }
    for (byte, expected) in zip(bytes, lowercase.utf8) {
        let folded = (byte >= 0x41 && byte <= 0x5A) ? byte + 0x20 : byte
        if folded != expected { return false }
    }
    return true
}

/// Returning anything but the byte count makes libcurl abort the transfer.
private func callbackByteCount(_ size: Int, _ count: Int) -> Int? {
    let (total, overflow) = size.multipliedReportingOverflow(by: count)
    return overflow ? nil : total
}

private let easyHandleWriteCallback: ccurl_data_callback = { data, size, count, userdata in
    guard let userdata, let total = callbackByteCount(size, count) else { return 0 }
    let owner = Unmanaged<EasyHandle>.fromOpaque(userdata).takeUnretainedValue()
    guard total > 0 else { return 0 }
    guard let data else { return 0 }
    return owner.appendBody(UnsafeRawBufferPointer(start: data, count: total)) ? total : 0
}

private let easyHandleHeaderCallback: ccurl_data_callback = { data, size, count, userdata in
    guard let userdata, let data, let total = callbackByteCount(size, count) else { return 0 }
    let owner = Unmanaged<EasyHandle>.fromOpaque(userdata).takeUnretainedValue()
    owner.receiveHeaderLine(UnsafeRawBufferPointer(start: data, count: total))
    return total
}
