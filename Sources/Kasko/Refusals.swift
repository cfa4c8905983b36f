/// The values a caller set one by one and the library refused, each with
/// its reason, for settings that report a refusal later instead of
/// dropping it: per-call options (`CallOptions`) and a configuration built
/// key by key (`ConfigurationBuilder`). Setting a name again forgets its
/// refusal; the first one still standing is what the caller hears, so a
/// setter whose status was ignored never leaves a silent default.
struct Refusals: Sendable {
    private var standing: [(name: String, message: String)] = []

    /// The first refusal still standing, as the error the caller hears.
    var first: KaskoError? {
        standing.first.map { .invalidArgument($0.message) }
    }

    /// Forgets `name`'s earlier refusal; remembers `problem` and throws it.
    mutating func record(_ name: String, _ problem: KaskoError?) throws(KaskoError) {
        standing.removeAll { $0.name == name }
        if let problem {
            standing.append((name, problem.message))
            throw problem
        }
    }

    /// `check`'s error, or nil when it passes.
    static func failure(of check: () throws(KaskoError) -> Void) -> KaskoError? {
        do {
            try check()
            return nil
        } catch {
            return error
        }
    }
}
