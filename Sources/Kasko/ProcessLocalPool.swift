import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The handle pool of whichever process is using the client.
///
/// After `fork()` the child holds a copy of the parent's pool: easy handles
/// whose kept-alive sockets are the very sockets the parent still uses, and
/// locks that a parent thread may have held at the moment of the fork. A
/// child that used them would read the parent's responses (and the parent
/// the child's), and a child that freed them would send TLS close_notify on
/// the parent's connections. So each call first compares the process id
/// with the pool's owner, and a process that inherited the pool builds one
/// of its own, touching nothing of the old one: not its handles, not its
/// locks. The inherited pool is deliberately never freed in the child: its
/// memory and descriptors stay until that process exits.
///
/// Lock-free on purpose: a lock of the parent's may be held by a thread that
/// does not exist in the child. The current pool is an atomic pointer; the
/// child's threads race to install their pool with a compare-and-swap, and a
/// loser frees its own, never-published pool. A published pool is released
/// only by its own process, when the client is freed, so a pointer that was
/// once read stays valid.
final class ProcessLocalPool: @unchecked Sendable {
    private final class Owned {
        let pid: pid_t
        let pool: HandlePool

        init(pid: pid_t, pool: HandlePool) {
            self.pid = pid
            self.pool = pool
        }
    }

    private let settings: TransportSettings
    /// A +1 `Unmanaged<Owned>`; never nil after init.
    private let current: Atomic<UnsafeMutableRawPointer?>

    init(settings: TransportSettings) throws(TransportFailure) {
        self.settings = settings
        let owned = Owned(pid: getpid(), pool: try HandlePool(settings: settings))
        current = Atomic(Unmanaged.passRetained(owned).toOpaque())
    }

    deinit {
        guard let raw = current.load(ordering: .acquiring) else { return }
        let owned = Unmanaged<Owned>.fromOpaque(raw)
        // Freed only by the process that made it; see the type's comment.
        if owned.takeUnretainedValue().pid == getpid() {
            owned.release()
        }
    }

    /// This process's pool, made on the first call after a fork.
    func pool() -> Result<HandlePool, TransportFailure> {
        let pid = getpid()
        while true {
            guard let raw = current.load(ordering: .acquiring) else {
                return .failure(.local("the client's connection pool is missing"))
            }
            let owned = Unmanaged<Owned>.fromOpaque(raw).takeUnretainedValue()
            if owned.pid == pid {
                return .success(owned.pool)
            }
            let fresh: Owned
            do {
                fresh = Owned(pid: pid, pool: try HandlePool(settings: settings))
            } catch {
                return .failure(error)
            }
            let freshRaw = Unmanaged.passRetained(fresh).toOpaque()
            let (installed, _) = current.compareExchange(
                expected: raw, desired: freshRaw, ordering: .acquiringAndReleasing)
            if installed {
                return .success(fresh.pool)
            }
            // Another thread of this process installed its pool first.
            Unmanaged<Owned>.fromOpaque(freshRaw).release()
        }
    }
}
