import Kasko
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Checks a webhook delivery's signature: KASKO_OK when `signature_header`
/// is the HMAC-SHA1 of the body with the webhook's secret.
///
/// KASKO signs each webhook's body with the secret it gave for that webhook
/// and sends the signature in the X-KASKO-Signature header, as "sha1="
/// followed by the 40 hex digits of HMAC-SHA1(secret, body). Pass the
/// header's value exactly as received (no surrounding whitespace), the
/// secret exactly as KASKO gave it (a "whsec_" prefix is part of the key)
/// and the raw request body: exactly `payload_len` bytes at `payload`, as
/// received, before any JSON parsing, which may hold NUL bytes. The hex
/// digits may be of either case; the whole digest is compared in constant
/// time (libcrypto's HMAC and CRYPTO_memcmp). A signature proves where the
/// body came from, not when: KASKO documents no timestamp or replay
/// protection, so de-duplicate deliveries by their X-KASKO-Delivery header.
/// No network I/O; no client is needed.
///
/// Ownership: the library keeps no pointer to any argument. `secret` and
/// `signature_header` are NUL-terminated; `payload` need not be, and may be
/// NULL when `payload_len` is 0 (an empty body).
/// Thread-safety: safe from any thread, any number at once; no state is
/// kept between calls.
///
/// Returns KASKO_OK when the signature matches; KASKO_ERR_BAD_SIGNATURE
/// when the header is well formed and does not match (drop the request:
/// answer it with a non-2xx status); KASKO_ERR_INVALID_ARGUMENT for a NULL
/// `secret` or `signature_header`, a NULL `payload` with a non-zero
/// `payload_len`, an empty `secret` (it would make every signature one
/// anyone can compute), or a header that is not exactly "sha1=" and 40 hex
/// digits (another prefix, a shorter or longer digest, any other
/// character); KASKO_ERR_INTERNAL if libcrypto could not compute the HMAC.
/// Added in 1.3.0.
@c(kasko_webhook_verify)
public func kasko_webhook_verify(
    _ secret: UnsafePointer<CChar>?, _ payload: UnsafePointer<CChar>?, _ payload_len: UInt,
    _ signature_header: UnsafePointer<CChar>?
) -> KaskoCStatus {
    guard let secret, let signature_header else { return .errInvalidArgument }
    guard let length = Int(exactly: payload_len) else { return .errInvalidArgument }
    if payload == nil && length != 0 { return .errInvalidArgument }
    // Read no further than one byte past a well-formed header's length.
    let headerLength = strnlen(signature_header, Webhook.headerLength + 1)
    let body = UnsafeRawBufferPointer(start: payload.map { UnsafeRawPointer($0) }, count: length)
    let key = UnsafeRawBufferPointer(start: UnsafeRawPointer(secret), count: strlen(secret))
    let header = UnsafeRawBufferPointer(start: UnsafeRawPointer(signature_header), count: headerLength)
    switch Webhook.verify(secret: key, body: body, header: header) {
    case .success: return .ok
    case .failure(.badSignature): return .errBadSignature
    case .failure(.invalidArgument): return .errInvalidArgument
    case .failure(.internalFailure): return .errInternal
    }
}
