/// The library's semantic version. `scripts/generate-header` reads these three
/// lines to write the `KASKO_VERSION_*` macros, so keep their shape.
public enum KaskoVersion {
    public static let major = 1
    public static let minor = 0
    public static let patch = 0

    public static let string = "\(major).\(minor).\(patch)"
}
