import CCurl

/// libcurl wants `curl_global_init` called once per process before anything
/// else, and it is not safe to race. A Swift global is initialised exactly
/// once, on first use, under the runtime's own once-lock, which gives both.
/// It is never torn down: the library may be unloaded while the host keeps
/// using libcurl itself, and `curl_global_cleanup` would pull it out from
/// under them.
private let curlGlobalInitResult: CURLcode = curl_global_init(Int(CURL_GLOBAL_ALL))

enum CurlGlobal {
    /// Runs `curl_global_init` if it has not run yet; false if it failed.
    static func ensureInitialised() -> Bool {
        curlGlobalInitResult == CURLE_OK
    }

    /// libcurl's own version, e.g. "7.88.1", for the User-Agent.
    static let versionNumber: String = String(cString: ccurl_version_number())
}
