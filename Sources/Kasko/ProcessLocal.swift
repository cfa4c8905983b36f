import CCurl
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A value of whichever process is using the client: its handle pool, and
/// the engine of its asynchronous calls.
///
/// After `fork()` the child holds a copy of the parent's: easy handles whose
/// kept-alive sockets are the very sockets the parent still uses, an engine
/// whose thread the child does not have, and locks that a parent thread may
/// have held at the moment of the fork. A child that used them would read
/// the parent's responses (and the parent the child's), and a child that
/// freed them would send TLS close_notify on the parent's connections. So
/// each use first compares the process id with the value's owner, and a
/// process that inherited the value makes one of its own, touching nothing
/// of the old one: not its handles, not its locks. The inherited value is
/// deliberately never freed in the child: its memory and descriptors stay
/// until that process exits.
///
/// Lock-free on purpose: a lock of the parent's may be held by a thread that
/// does not exist in the child. The current value is an atomic pointer; the
/// child's threads race to install theirs with a compare-and-swap, and a
/// loser frees its own, never-published value (so making one must have no
/// effect beyond it: the engine starts its thread on first use, not when
/// made). A published value is released only by its own process, when the
/// client is freed, so a pointer that was once read stays valid.
final class ProcessLocal<Value: AnyObject>: @unchecked Sendable {
    private final class Owned {
        let pid: pid_t
        let value: Value

        init(pid: pid_t, value: Value) {
            self.pid = pid
            self.value = value
        }
    }

    private let make: () throws(TransportFailure) -> Value
    /// A +1 `Unmanaged<Owned>`, or nil before the first use of a lazy one.
    private let current: Atomic<UnsafeMutableRawPointer?>

    /// `eager`: made now (a failure is the client's), else on first use.
    init(eager: Bool, make: @escaping () throws(TransportFailure) -> Value) throws(TransportFailure) {
        self.make = make
        if eager {
            let owned = Owned(pid: getpid(), value: try make())
            current = Atomic(Unmanaged.passRetained(owned).toOpaque())
        } else {
            current = Atomic(nil)
        }
    }

    deinit {
        guard let raw = current.load(ordering: .acquiring) else { return }
        let owned = Unmanaged<Owned>.fromOpaque(raw)
        // Freed only by the process that made it; see the type's comment.
        if owned.takeUnretainedValue().pid == getpid() {
            owned.release()
        }
    }

    /// This process's value, if it has made one (never making it).
    var existing: Value? {
        guard let raw = current.load(ordering: .acquiring) else { return nil }
        ccurl_annotate_happens_after(raw)
        let owned = Unmanaged<Owned>.fromOpaque(raw).takeUnretainedValue()
        return owned.pid == getpid() ? owned.value : nil
    }

    /// This process's value, made on its first use (after a fork, or the
    /// first of a lazy one).
    func value() -> Result<Value, TransportFailure> {
        let pid = getpid()
        while true {
            let raw = current.load(ordering: .acquiring)
            if let raw {
                // What the publishing thread wrote before its release is
                // visible; helgrind needs telling (race_annotations.c).
                ccurl_annotate_happens_after(raw)
                let owned = Unmanaged<Owned>.fromOpaque(raw).takeUnretainedValue()
                if owned.pid == pid {
                    return .success(owned.value)
                }
            }
            let fresh: Owned
            do {
                fresh = Owned(pid: pid, value: try make())
            } catch {
                return .failure(error)
            }
            let freshRaw = Unmanaged.passRetained(fresh).toOpaque()
            ccurl_annotate_happens_before(freshRaw)
            let (installed, _) = current.compareExchange(
                expected: raw, desired: freshRaw, ordering: .acquiringAndReleasing)
            if installed {
                return .success(fresh.value)
            }
            // Another thread of this process installed its value first.
            Unmanaged<Owned>.fromOpaque(freshRaw).release()
        }
    }
}
