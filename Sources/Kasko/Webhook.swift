import CCurl

/// Webhook signatures: KASKO signs each delivery's raw body with the
/// webhook's secret and sends `X-KASKO-Signature: sha1=<40 hex digits>`,
/// the HMAC-SHA1 hex digest (reference, section 6.3). The HMAC and the
/// constant-time comparison are libcrypto's (CCurl's webhook_hmac.c); this
/// type only checks the header's form and decodes its digits.
public enum Webhook {
    /// Why a signature was not accepted.
    public enum Failure: Error, Equatable, Sendable {
        /// The arguments are not a secret, a body and a header of the
        /// documented form: the message says which.
        case invalidArgument(String)
        /// Well formed, and not the body's signature with this secret.
        case badSignature
        /// libcrypto could not compute the HMAC.
        case internalFailure
    }

    /// The header's prefix, and the length of what follows it.
    static let prefix: [UInt8] = Array("sha1=".utf8)
    static let digestHexDigits = 40
    /// `sha1=` and 40 hex digits.
    public static let headerLength = 45

    /// Checks `header` against the HMAC-SHA1 of `body` keyed with `secret`.
    /// `header` must be exactly `sha1=` and 40 hex digits (either case);
    /// the whole digest is compared in constant time. The secret must not
    /// be empty: an empty key would make every signature one anyone can
    /// compute.
    public static func verify(
        secret: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer, header: UnsafeRawBufferPointer
    ) -> Result<Void, Failure> {
        guard secret.count > 0, let key = secret.baseAddress else {
            return .failure(.invalidArgument("the webhook secret is empty"))
        }
        guard let expected = digest(header) else {
            return .failure(.invalidArgument("the signature header is not \"sha1=\" followed by 40 hex digits"))
        }
        let matches = expected.withUnsafeBufferPointer { digest in
            // Non-empty (20 bytes), so its base address exists.
            ccurl_webhook_hmac_sha1_matches(key, secret.count, body.baseAddress, body.count, digest.baseAddress)
        }
        switch matches {
        case 1: return .success(())
        case 0: return .failure(.badSignature)
        default: return .failure(.internalFailure)
        }
    }

    /// The 20 bytes a well-formed header names, or nil. The header is not a
    /// secret, so checking its form may take time that depends on it.
    static func digest(_ header: UnsafeRawBufferPointer) -> [UInt8]? {
        guard header.count == headerLength else { return nil }
        for (index, byte) in prefix.enumerated() where header[index] != byte {
            return nil
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(digestHexDigits / 2)
        var index = prefix.count
        while index + 1 < header.count {
            guard let high = nibble(header[index]), let low = nibble(header[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes.count == digestHexDigits / 2 ? bytes : nil
    }

    static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte &- UInt8(ascii: "a") &+ 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte &- UInt8(ascii: "A") &+ 10
        default: return nil
        }
    }
}
