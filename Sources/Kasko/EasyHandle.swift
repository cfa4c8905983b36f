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
/// An easy handle is used by one thread at a time: `HandlePool` lends it
/// out to blocking calls, and an `AsyncEngine` keeps its own for its thread.
final class EasyHandle {
    let handle: UnsafeMutableRawPointer
    /// The engine's hold on the fork gate, for an engine's handle (nil: a
    /// blocking call's, which enters and leaves the gate itself).
    private let engineGate: EngineForkGate?
    /// The asynchronous call this handle is carrying (engine thread only).
    var asyncCall: AsyncCall?
    /// The engine's multi handle carrying it (`ccurl_multi_loop_add`).
    var shard: UInt32 = 0
    private let errorBuffer: UnsafeMutablePointer<CChar>
    /// The request's URL, parsed here for libcurl (see `useParsedURL`); nil
    /// if curl_url() found no memory, and then libcurl parses it itself.
    private let parsedURL: OpaquePointer?
    private let maximumBodyBytes: Int
    private let timeoutMilliseconds: Int
    /// A call set its own timeout: the next call without one restores the client's.
    private var timeoutOverridden = false

    // Filled by the callbacks during `perform`, reset before each request.
    fileprivate var body: [UInt8] = []
    fileprivate var bodyTooLarge = false
    /// How much of `uploadBody` libcurl has read.
    fileprivate var uploadOffset = 0
    /// How many times in this perform libcurl was about to write the
    /// request (its pre-request callback). Zero at the end means no byte of
    /// the request can have been written: the only ground for `not_sent`.
    fileprivate var requestsStarted = 0
    /// Set for a request with effects: libcurl may write it once per perform.
    fileprivate var sendsAtMostOnce = false
    /// Inside the fork gate: from the start of a perform until the request
    /// is about to be written (see `ccurl_fork_gate_enter`).
    fileprivate var settingUp = false
    /// The body being sent, read by libcurl through the read callback from
    /// `begin` to `finish`.
    fileprivate var uploadBody: [UInt8] = []
    /// A call's own header lines, linked in front of the client's list from
    /// `begin` to `end`.
    private var callHeaders: (first: UnsafeMutablePointer<curl_slist>, last: UnsafeMutablePointer<curl_slist>)?
    private var fixedHeaders: UnsafeMutablePointer<curl_slist>?

    /// `share`: the client's DNS and TLS session cache for blocking calls;
    /// an engine's handles share its multi handle's caches instead.
    init(
        settings: TransportSettings, share: UnsafeMutablePointer<ccurl_locked_share>?, engineGate: EngineForkGate? = nil
    ) throws(TransportFailure) {
        let made: UnsafeMutableRawPointer?
        if let engineGate {
            made = engineGate.holding { ccurl_easy_init_in_gate() }
        } else {
            made = ccurl_easy_init()
        }
        guard let handle = made else {
            throw .local("curl_easy_init failed")
        }
        self.handle = handle
        self.engineGate = engineGate
        maximumBodyBytes = settings.maximumBodyBytes
        timeoutMilliseconds = settings.timeoutMilliseconds
        errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        parsedURL = curl_url()
        body.reserveCapacity(16 * 1024)
        try configure(settings, share: share)
    }

    deinit {
        if let engineGate {
            engineGate.holding { curl_easy_cleanup(handle) }
        } else {
            ccurl_easy_cleanup(handle)
        }
        errorBuffer.deallocate()
        // After the easy handle, which may point at it.
        curl_url_cleanup(parsedURL)
    }

    private func configure(_ settings: TransportSettings, share: UnsafeMutablePointer<ccurl_locked_share>?) throws(TransportFailure) {
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
            share.map { ccurl_easy_setopt_share(handle, $0.pointee.share) } ?? CURLE_OK,
            ccurl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, me),
            ccurl_easy_setopt_write_function(handle, easyHandleWriteCallback),
            // Bodies go through a read callback whose seek callback refuses to
            // rewind. When a kept-alive connection dies before any answer,
            // libcurl silently sends the request again on a new connection
            // (whatever the method), rewinding the body first. A create the
            // server had already carried out would then charge twice; with
            // the rewind refused, libcurl fails instead (CURLE_SEND_FAIL_REWIND),
            // and the caller hears "outcome unknown". A connection that was
            // already closed when the call began is still replaced
            // transparently: libcurl checks it before sending anything.
            ccurl_easy_setopt_pointer(handle, CURLOPT_READDATA, me),
            ccurl_easy_setopt_pointer(handle, CURLOPT_SEEKDATA, me),
            ccurl_easy_setopt_read_function(handle, easyHandleReadCallback),
            ccurl_easy_setopt_seek_function(handle, easyHandleSeekCallback),
            // What was sent is learnt from libcurl itself, not guessed from an
            // error code: see `requestsStarted`.
            ccurl_easy_setopt_pointer(handle, CURLOPT_PREREQDATA, me),
            ccurl_easy_setopt_prereq_function(handle, easyHandlePrereqCallback),
            // Close-on-exec sockets that a forked child closes (fork_gate.c).
            ccurl_easy_setopt_socket_functions(handle),
        ]
        if let path = settings.caBundlePath {
            results.append(ccurl_easy_setopt_string(handle, CURLOPT_CAINFO, path))
        }
        if let proxy = settings.proxy {
            results.append(ccurl_easy_setopt_string(handle, CURLOPT_PROXY, proxy))
        }
        if let failed = results.first(where: { $0 != CURLE_OK }) {
            throw TransportFailure(
                evidence: .notSent(.local), curlCode: Int(failed.rawValue),
                message: "libcurl refused an option: \(String(cString: curl_easy_strerror(failed)))",
                httpStatus: nil, requestID: nil)
        }
    }

    /// Whether libcurl got as far as writing the current request (a
    /// cancelled transfer is `not_sent` only if not).
    var requestMayHaveBeenWritten: Bool { requestsStarted > 0 }

    /// Sends `request` with `headers` and waits for the whole response.
    func perform(_ request: HTTPRequest, headers: UnsafeMutablePointer<curl_slist>?) -> Result<HTTPResponse, TransportFailure> {
        let setup = begin(request, headers: headers)
        return finish(request, code: setup == CURLE_OK ? curl_easy_perform(handle) : setup)
    }

    /// Sets the handle up for `request`: after CURLE_OK it is ready for
    /// curl_easy_perform or a multi handle, and `finish` must follow either
    /// way (it leaves the fork gate and unlinks the call's headers).
    func begin(_ request: HTTPRequest, headers: UnsafeMutablePointer<curl_slist>?) -> CURLcode {
        body.removeAll(keepingCapacity: true)
        bodyTooLarge = false
        errorBuffer[0] = 0
        requestsStarted = 0
        sendsAtMostOnce = request.method == .post

        // A fork waits while a connection may be being set up (OpenSSL and
        // the resolver take global locks then); the pre-request callback
        // lets go as soon as the connection is ready.
        enterSetup()
        var setup = request.withURL { url in
            let set = ccurl_easy_setopt_string(handle, CURLOPT_URL, url)
            return set == CURLE_OK ? useParsedURL(url) : set
        }
        if setup == CURLE_OK { setup = applyTimeout(request.timeoutMilliseconds) }
        // A call's own header lines go in a list of their own whose last node
        // points at the client's fixed list (which holds the secret key and
        // is never copied); `finish` cuts the link again before freeing it.
        fixedHeaders = headers
        if setup == CURLE_OK, !request.extraHeaders.isEmpty {
            callHeaders = EasyHandle.list(request.extraHeaders)
            if callHeaders == nil { setup = CURLE_OUT_OF_MEMORY }
        }
        if let callHeaders { callHeaders.last.pointee.next = headers }
        if setup == CURLE_OK { setup = ccurl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, callHeaders?.first ?? headers) }
        guard setup == CURLE_OK else { return setup }
        switch request.method {
        case .get:
            return ccurl_easy_setopt_long(handle, CURLOPT_HTTPGET, 1)
        case .post:
            // The read callback reads it until `finish`.
            uploadBody = request.body
            uploadOffset = 0
            setup = ccurl_easy_setopt_long(handle, CURLOPT_POST, 1)
            if setup == CURLE_OK {
                setup = ccurl_easy_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count))
            }
            return setup
        }
    }

    /// What the transfer `begin` set up ended with, `code` being its result.
    func finish(_ request: HTTPRequest, code: CURLcode) -> Result<HTTPResponse, TransportFailure> {
        if let callHeaders {
            _ = ccurl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, fixedHeaders)
            callHeaders.last.pointee.next = nil
            curl_slist_free_all(callHeaders.first)
            self.callHeaders = nil
        }
        if request.method == .post { uploadBody = [] }
        if settingUp { leaveSetup() }
        var status = 0
        var statusCode: Int = 0
        if ccurl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK {
            statusCode = status
        }
        if code == CURLE_OK {
            // Only an error needs the request id or Retry-After: a success
            // does not pay for reading headers.
            let isError = !(200...299).contains(statusCode)
            // The body is this handle's buffer, reused by its next perform:
            // `Transport.send` has the response consumed while the handle is
            // still lent, so no other thread ever sees the buffer.
            var response = HTTPResponse(
                status: statusCode, body: body,
                requestIDBytes: isError || request.forTypedResult || request.measures ? header("X-Request-Id") : nil,
                retryAfterSeconds: isError ? header("Retry-After").flatMap(EasyHandle.delaySeconds) : nil)
            if request.measures { response.measure = measure() }
            if request.readsValidators && !isError {
                response.etagBytes = header("ETag")
                response.lastModifiedBytes = header("Last-Modified")
            }
            return .success(response)
        }
        var failed = failure(for: code, httpStatus: statusCode == 0 ? nil : statusCode)
        if request.measures { failed.measure = measure() }
        return .failure(failed)
    }

    /// The last perform's timings and sizes, for an event hook. A value
    /// libcurl cannot give counts as 0.
    private func measure() -> AttemptMeasure {
        func offset(_ info: CURLINFO) -> Int64 {
            var value: curl_off_t = 0
            return ccurl_easy_getinfo_off_t(handle, info, &value) == CURLE_OK ? Int64(value) : 0
        }
        func long(_ info: CURLINFO) -> Int64 {
            var value: Int = 0
            return ccurl_easy_getinfo_long(handle, info, &value) == CURLE_OK ? Int64(value) : 0
        }
        var measure = AttemptMeasure()
        measure.dnsMicroseconds = offset(CURLINFO_NAMELOOKUP_TIME_T)
        measure.connectMicroseconds = offset(CURLINFO_CONNECT_TIME_T)
        measure.tlsMicroseconds = offset(CURLINFO_APPCONNECT_TIME_T)
        measure.firstByteMicroseconds = offset(CURLINFO_STARTTRANSFER_TIME_T)
        measure.totalMicroseconds = offset(CURLINFO_TOTAL_TIME_T)
        measure.bytesSent = long(CURLINFO_REQUEST_SIZE) &+ offset(CURLINFO_SIZE_UPLOAD_T)
        measure.bytesReceived = long(CURLINFO_HEADER_SIZE) &+ offset(CURLINFO_SIZE_DOWNLOAD_T)
        return measure
    }

    /// Hands libcurl the URL already parsed (CURLOPT_CURLU), as well as its
    /// text (CURLOPT_URL, set first). Given only the text, libcurl 7.88
    /// parses it and prints the parsed URL back into a new string on every
    /// transfer, the print alone about 9,000 instructions (callgrind, issue
    /// 15): a tenth of libcurl's work per request. Given both, it copies
    /// this handle instead of parsing, and keeps the text as the URL (the
    /// documentation: CURLOPT_CURLU overrides CURLOPT_URL), so the two
    /// must be the same URL; they are parsed here with the flags libcurl
    /// itself parses CURLOPT_URL with. A URL this parse refuses is left to
    /// libcurl, which refuses it with its own error, as before.
    private func useParsedURL(_ url: UnsafePointer<CChar>) -> CURLcode {
        guard let parsedURL else { return CURLE_OK }
        let flags = UInt32(CURLU_GUESS_SCHEME | CURLU_NON_SUPPORT_SCHEME)
        let parsed = curl_url_set(parsedURL, CURLUPART_URL, url, flags) == CURLUE_OK
        return ccurl_easy_setopt_pointer(handle, CURLOPT_CURLU, parsed ? UnsafeMutableRawPointer(parsedURL) : nil)
    }

    /// The call's own timeout, or the client's again after a call that had one.
    private func applyTimeout(_ milliseconds: Int?) -> CURLcode {
        if let milliseconds {
            timeoutOverridden = true
            return ccurl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, milliseconds)
        }
        guard timeoutOverridden else { return CURLE_OK }
        timeoutOverridden = false
        return ccurl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeoutMilliseconds)
    }

    /// A new libcurl list of `lines` with its last node; nil if memory ran out.
    private static func list(_ lines: [String]) -> (first: UnsafeMutablePointer<curl_slist>, last: UnsafeMutablePointer<curl_slist>)? {
        var first: UnsafeMutablePointer<curl_slist>?
        for line in lines {
            guard let grown = curl_slist_append(first, line) else {
                curl_slist_free_all(first)
                return nil
            }
            first = grown
        }
        guard var last = first else { return nil }
        while let next = last.pointee.next { last = next }
        return first.map { ($0, last) }
    }

    private func failure(for code: CURLcode, httpStatus: Int?) -> TransportFailure {
        let detail = errorBuffer[0] != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
        let evidence = EasyHandle.evidence(for: code, requestStarted: requestsStarted > 0)
        let message: String
        switch code {
        case CURLE_WRITE_ERROR where bodyTooLarge, CURLE_FILESIZE_EXCEEDED:
            message = "response body is larger than \(maximumBodyBytes) bytes"
        case CURLE_SEND_FAIL_REWIND,
             CURLE_ABORTED_BY_CALLBACK where requestsStarted > 0:
            message = "the connection closed after the request was sent, before any answer; "
                + "libkasko never sends a request twice on its own (curl error \(code.rawValue))"
        default:
            switch evidence {
            case .sentInvalidAnswer:
                message = "the response could not be read as HTTP: \(detail) (curl error \(code.rawValue))"
            default:
                message = "\(detail) (curl error \(code.rawValue))"
            }
        }
        return TransportFailure(
            evidence: evidence, curlCode: Int(code.rawValue), message: message, httpStatus: httpStatus,
            requestID: httpStatus == nil ? nil : header("X-Request-Id").flatMap(HTTPResponse.headerText))
    }

    /// The evidence a failed perform leaves. Whether the request can have
    /// been written comes from libcurl's pre-request callback; the error code
    /// only says what kind of failure it was on either side of that line.
    static func evidence(for code: CURLcode, requestStarted: Bool) -> AttemptEvidence {
        guard requestStarted else {
            switch code {
            case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
                 CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ENGINE_SETFAILED,
                 CURLE_SSL_ENGINE_INITFAILED, CURLE_SSL_CRL_BADFILE, CURLE_SSL_ISSUER_ERROR,
                 CURLE_SSL_PINNEDPUBKEYNOTMATCH, CURLE_SSL_INVALIDCERTSTATUS, CURLE_SSL_CLIENTCERT:
                return .notSent(.tls)
            case CURLE_OUT_OF_MEMORY, CURLE_BAD_FUNCTION_ARGUMENT, CURLE_UNKNOWN_OPTION, CURLE_NOT_BUILT_IN,
                 CURLE_FAILED_INIT, CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
                return .notSent(.local)
            default:
                // Resolving, connecting, a proxy, or a timeout in any of them.
                return .notSent(.unreachable)
            }
        }
        switch code {
        // A body over the limit (our write callback refused it: WRITE_ERROR),
        // "Unsupported HTTP version", a status below 100, a reply with no
        // status line, a header over CURL_MAX_HTTP_HEADER ("out of memory" in
        // 7.88), an encoding or framing libcurl cannot read.
        case CURLE_WRITE_ERROR, CURLE_FILESIZE_EXCEEDED, CURLE_UNSUPPORTED_PROTOCOL, CURLE_WEIRD_SERVER_REPLY,
             CURLE_OUT_OF_MEMORY, CURLE_BAD_CONTENT_ENCODING, CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_HTTP3:
            return .sentInvalidAnswer
        default:
            return .sentNoAnswer
        }
    }

    private func enterSetup() {
        if let engineGate { engineGate.hold() } else { ccurl_fork_gate_enter() }
        settingUp = true
    }

    fileprivate func leaveSetup() {
        settingUp = false
        if let engineGate { engineGate.release() } else { ccurl_fork_gate_leave() }
    }

    fileprivate func appendBody(_ data: UnsafeRawBufferPointer) -> Bool {
        guard body.count + data.count <= maximumBodyBytes else {
            bodyTooLarge = true
            return false
        }
        body.append(contentsOf: data)
        return true
    }

    /// The last response's header `name` (libcurl keeps them all), at most
    /// 8 KiB of it, or nil. Shortened for the caller only after redaction
    /// (`KaskoError.redacted`), so that a cut never leaves part of a secret.
    private func header(_ name: String) -> [UInt8]? {
        var found: UnsafeMutablePointer<curl_header>?
        guard curl_easy_header(handle, name, 0, UInt32(CURLH_HEADER), -1, &found) == CURLHE_OK,
              let value = found?.pointee.value else { return nil }
        let length = min(strlen(value), 8192)
        return Array(UnsafeRawBufferPointer(start: value, count: length))
    }

    /// `Retry-After` in its delay-seconds form (ASCII digits); an HTTP date
    /// counts as absent.
    static func delaySeconds(_ value: [UInt8]) -> Int? {
        guard let text = HTTPResponse.headerText(value), !text.isEmpty, text.utf8.count <= 9,
              text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        return Int(text)
    }
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

private let easyHandleReadCallback: ccurl_data_callback = { buffer, size, count, userdata in
    guard let userdata, let buffer, let capacity = callbackByteCount(size, count) else { return Int(CURL_READFUNC_ABORT) }
    let owner = Unmanaged<EasyHandle>.fromOpaque(userdata).takeUnretainedValue()
    let offset = owner.uploadOffset
    let chunk = min(owner.uploadBody.count - offset, capacity)
    if chunk > 0 {
        owner.uploadBody.withUnsafeBytes { bytes in
            if let source = bytes.baseAddress {
                UnsafeMutableRawPointer(buffer).copyMemory(from: source + offset, byteCount: chunk)
            }
        }
        owner.uploadOffset += chunk
    }
    return chunk
}

/// Counts the moments libcurl is about to write the request. A second one
/// in one perform is libcurl resending on a fresh connection after the first
/// died unanswered ("Connection died, retrying a fresh connect"): refused for
/// a request with effects, whose first copy the server may have carried out.
private let easyHandlePrereqCallback: ccurl_prereq_callback = { userdata, _, _, _, _ in
    guard let userdata else { return CURL_PREREQFUNC_ABORT }
    let owner = Unmanaged<EasyHandle>.fromOpaque(userdata).takeUnretainedValue()
    owner.requestsStarted += 1
    if owner.settingUp { owner.leaveSetup() }
    return owner.sendsAtMostOnce && owner.requestsStarted > 1 ? CURL_PREREQFUNC_ABORT : CURL_PREREQFUNC_OK
}

/// Allows only the rewind of a body not yet read at all; see `configure`.
private let easyHandleSeekCallback: ccurl_seek_callback = { userdata, offset, origin in
    guard let userdata else { return CURL_SEEKFUNC_FAIL }
    let owner = Unmanaged<EasyHandle>.fromOpaque(userdata).takeUnretainedValue()
    if offset == 0 && origin == SEEK_SET && owner.uploadOffset == 0 {
        return CURL_SEEKFUNC_OK
    }
    return CURL_SEEKFUNC_FAIL
}
