/// The library's semantic version, written once: here. `scripts/version`
/// reads this literal for the Makefile, the linker, the header and the
/// packages; `scripts/check-version` checks every copy that cannot read it.
public enum KaskoVersion {
    /// Static text, so that `kasko_version` can hand it to C as it is.
    public static let text: StaticString = "1.4.0"

    public static let string = text.description
    private static let parts = string.split(separator: ".").map { Int($0) ?? 0 }
    public static let major = parts.first ?? 0
    public static let minor = parts.dropFirst().first ?? 0
    public static let patch = parts.dropFirst(2).first ?? 0
    /// MAJOR * 1000000 + MINOR * 1000 + PATCH, as `KASKO_VERSION_NUMBER`.
    public static let number = major * 1_000_000 + minor * 1_000 + patch
}
