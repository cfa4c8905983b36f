// Identifier generation in the shapes the real API uses.
//
// Every id is random, never sequential, so clients cannot come to depend on
// an ordering the real API does not promise.

import Foundation

/// xoshiro256** seeded from the system generator.
///
/// Each connection owns one, so the hot path (a request id on every
/// response, several ids per payment) costs no syscall and no lock. The
/// 256-bit random seed per connection keeps ids from different connections
/// independent, which is all the uniqueness 112- and 128-bit ids need.
struct FastRandom: RandomNumberGenerator {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    init() {
        var system = SystemRandomNumberGenerator()
        repeat {
            s0 = system.next()
            s1 = system.next()
            s2 = system.next()
            s3 = system.next()
        } while s0 | s1 | s2 | s3 == 0  // the all-zero state is a fixed point
    }

    mutating func next() -> UInt64 {
        let result = rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotl(s3, 45)
        return result
    }

    @inline(__always)
    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 &- k))
    }
}

enum Identifiers {
    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// `count` random lowercase hex digits.
    static func hex(_ count: Int, using rng: inout FastRandom) -> String {
        hex(count, after: [], using: &rng)
    }

    /// `prefix` then `count` random lowercase hex digits, in one allocation.
    private static func hex(_ count: Int, after prefix: [UInt8], using rng: inout FastRandom) -> String {
        guard count > 0 else { return String(decoding: prefix, as: UTF8.self) }
        return String(unsafeUninitializedCapacity: prefix.count + count) { buffer in
            for (i, byte) in prefix.enumerated() {
                buffer[i] = byte
            }
            var word: UInt64 = 0
            var nibblesLeft = 0
            for i in prefix.count..<prefix.count + count {
                if nibblesLeft == 0 {
                    word = rng.next()
                    nibblesLeft = 16
                }
                buffer[i] = hexDigits[Int(word & 0xF)]
                word >>= 4
                nibblesLeft -= 1
            }
            return prefix.count + count
        }
    }

    private static let requestIdPrefix: [UInt8] = Array("req_".utf8)

    /// `req_` + 24 hex, sent as `X-Request-Id` on every response.
    static func requestId(using rng: inout FastRandom) -> String {
        hex(24, after: requestIdPrefix, using: &rng)
    }

    /// `tpol_`/`lpol_` + 28 hex, like the reference's `tpol_b1fc636ad446d6cb7144cfb31cae`.
    static func policyId(live: Bool, using rng: inout FastRandom) -> String {
        (live ? "lpol_" : "tpol_") + hex(28, using: &rng)
    }

    /// `tpv_` + 28 hex: a policy's version id (its ETag). The contract
    /// gives only the `tpv_` form, so live mode uses it too.
    static func versionId(using rng: inout FastRandom) -> String {
        "tpv_" + hex(28, using: &rng)
    }

    /// `TEST-SANDBOX-` + 8 of A-Z0-9: the insurer's policy id of an offer.
    static func insurerPolicyId(using rng: inout FastRandom) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return "TEST-SANDBOX-" + String((0..<8).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
    }

    /// 32 hex: a webhook delivery's X-KASKO-Delivery, like the reference's example.
    static func deliveryId(using rng: inout FastRandom) -> String {
        hex(32, using: &rng)
    }

    /// `t`/`l` + 32 hex, like the reference's `t84223322f013e2287210b6295010fc6d`.
    static func paymentId(live: Bool, using rng: inout FastRandom) -> String {
        (live ? "l" : "t") + hex(32, using: &rng)
    }

    /// The payment token an offer is issued with.
    static func paymentToken(using rng: inout FastRandom) -> String {
        "ptok_" + hex(40, using: &rng)
    }

    /// An opaque customer id shaped like the reference's: base64 of an
    /// encrypted-payload JSON with `=` padding turned into `_`. Clients must
    /// treat it as opaque, so only the look matters.
    static func customerId(using rng: inout FastRandom) -> String {
        let payload = "{\"id\":\"cus_\(hex(12, using: &rng))\","
            + "\"iv\":\"\(base64(randomBytes(16, using: &rng)))\","
            + "\"mac\":\"\(hex(64, using: &rng))\","
            + "\"value\":\"\(base64(randomBytes(48, using: &rng)))\"}"
        return base64(Array(payload.utf8)).replacingOccurrences(of: "=", with: "_")
    }

    private static func randomBytes(_ count: Int, using rng: inout FastRandom) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    private static func base64(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
    }
}

enum Timestamps {
    /// Current UTC time as `2026-11-25T10:50:30Z`.
    ///
    /// Formatted by hand with `gmtime_r`: DateFormatter is slow and its
    /// thread-safety on Linux is not something to lean on from event loops.
    static func nowISO8601() -> String {
        var seconds = time(nil)
        var parts = tm()
        guard gmtime_r(&seconds, &parts) != nil else { return "1970-01-01T00:00:00Z" }
        return "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))"
            + "T\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))Z"
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
