#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The `ca_bundle` setting, checked when the client is made. libcurl opens
/// the file at each new TLS connection: a FIFO there blocks every call
/// forever, whatever the timeouts say, and a directory or a device fails only
/// at the first call. So it must be a regular file this process can read
/// that holds at least one PEM certificate.
enum CABundle {
    /// The system bundle is about 200 KiB; anything near this is not one.
    static let maximumBytes = 16 << 20

    static func check(_ path: String) throws(KaskoError) {
        guard !path.isEmpty else { throw .invalidArgument("ca_bundle must be a file path, got an empty string") }
        let quoted = JSONWriter.quoted(path)
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw .invalidArgument("ca_bundle \(quoted) cannot be found (\(String(cString: strerror(errno))))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw .invalidArgument("ca_bundle \(quoted) is not a regular file (a directory, device or FIFO)")
        }
        guard Int(info.st_size) <= maximumBytes else {
            throw .invalidArgument("ca_bundle \(quoted) is larger than \(maximumBytes) bytes")
        }
        // O_NONBLOCK: should the path have become a FIFO since stat, opening
        // it must not wait for a writer.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard descriptor >= 0 else {
            throw .invalidArgument("ca_bundle \(quoted) is not readable (\(String(cString: strerror(errno))))")
        }
        defer { close(descriptor) }
        var opened = stat()
        guard fstat(descriptor, &opened) == 0, opened.st_mode & S_IFMT == S_IFREG else {
            throw .invalidArgument("ca_bundle \(quoted) is not a regular file (a directory, device or FIFO)")
        }
        guard containsCertificate(descriptor) else {
            throw .invalidArgument("ca_bundle \(quoted) holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
        }
    }

    /// Reads up to `maximumBytes`, looking for a PEM certificate header.
    private static func containsCertificate(_ descriptor: Int32) -> Bool {
        let marker = Array("-----BEGIN CERTIFICATE-----".utf8)
        let chunk = 64 * 1024
        var window: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: chunk)
        var total = 0
        while total < maximumBytes {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, chunk) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return false }
            total += count
            // Keep the tail of the previous chunk: the marker may straddle two.
            window = Array(window.suffix(marker.count - 1)) + buffer[0..<count]
            if contains(window, marker) { return true }
        }
        return false
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }
}
