import CCurl

/// Lends easy handles to calls, so that one client serves many threads at
/// once: an easy handle, and the connection it keeps alive, is used by one
/// thread at a time. Each handle has its own connection cache (libcurl does
/// not support one shared between threads that perform at the same time);
/// only the DNS cache and TLS sessions are shared, under locks. The most
/// recently returned handle is lent first, so consecutive calls from one
/// thread reuse one connection and N busy threads keep about N.
///
/// A pool belongs to the process that made it: see `ProcessLocal`.
final class HandlePool: @unchecked Sendable {
    /// Idle handles kept beyond this are freed: a burst of threads should not
    /// pin a handle per thread for the client's whole life.
    private static let maximumIdleHandles = 16

    private let settings: TransportSettings
    private let share: UnsafeMutablePointer<ccurl_locked_share>
    private let lock = Lock()
    private var idle: [EasyHandle] = []

    init(settings: TransportSettings) throws(TransportFailure) {
        guard let share = ccurl_locked_share_new() else {
            throw .local("could not create a libcurl share handle")
        }
        self.settings = settings
        self.share = share
    }

    deinit {
        // Every easy handle must be cleaned up before the share it uses.
        idle.removeAll()
        ccurl_locked_share_free(share)
    }

    func withHandle<T>(_ body: (EasyHandle) -> T) -> Result<T, TransportFailure> {
        let handle: EasyHandle
        if let reused = lock.withLock({ idle.popLast() }) {
            handle = reused
        } else {
            do {
                handle = try EasyHandle(settings: settings, share: share)
            } catch {
                return .failure(error)
            }
        }
        let result = body(handle)
        lock.withLock {
            if idle.count < HandlePool.maximumIdleHandles {
                idle.append(handle)
            }
        }
        return .success(result)
    }
}
