import CCurl

/// The fork gate (fork_gate.c) as an engine's thread holds it. A blocking
/// call enters the gate for its one connection's setup; the engine thread
/// sets up many connections at once, and the gate is not re-entrant (a
/// second read lock behind a waiting fork would deadlock). So the engine
/// enters once, while any of its transfers is setting up a connection or it
/// is making or freeing a libcurl handle, and leaves when none is.
///
/// Used by the engine's thread only.
final class EngineForkGate {
    private var holders = 0

    func hold() {
        if holders == 0 { ccurl_fork_gate_enter() }
        holders += 1
    }

    func release() {
        holders -= 1
        if holders == 0 { ccurl_fork_gate_leave() }
    }

    func holding<T>(_ body: () -> T) -> T {
        hold()
        defer { release() }
        return body()
    }

    /// Runs code of the library's user (a completion callback, an event
    /// hook) with the gate open. What the gate guards against is a fork
    /// catching a libcurl or OpenSSL lock held, and this thread holds none
    /// outside libcurl's calls; while it is held, a blocking call made from
    /// the callback would wait behind a waiting fork for a gate its own
    /// thread holds.
    func opened<T>(_ body: () -> T) -> T {
        let held = holders > 0
        if held { ccurl_fork_gate_leave() }
        defer { if held { ccurl_fork_gate_enter() } }
        return body()
    }
}
