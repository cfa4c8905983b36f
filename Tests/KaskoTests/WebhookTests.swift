import Testing
@testable import Kasko
@testable import KaskoC

/// Webhook signatures in the core (the header's form, decoding its digits)
/// and through the C entry point; Tests/C/test_webhook.c tests the built
/// library.
@Suite struct WebhookTests {
    static let secret = "whsec_test_secret"
    static let body = #"{"id":"tpol_0000000000000000000000000000","livemode":false,"policy_id":"TEST-POLICY-12345"}"#
    static let signature = "sha1=bed331ec2031e668907869f5ed39cf12136167a9"

    func verify(_ secret: String, _ body: String, _ header: String) -> Result<Void, Webhook.Failure> {
        var secret = secret, body = body, header = header
        return secret.withUTF8 { key in
            body.withUTF8 { payload in
                header.withUTF8 { value in
                    Webhook.verify(secret: UnsafeRawBufferPointer(key), body: UnsafeRawBufferPointer(payload),
                                   header: UnsafeRawBufferPointer(value))
                }
            }
        }
    }

    func failure(_ result: Result<Void, Webhook.Failure>) -> Webhook.Failure? {
        if case .failure(let failure) = result { return failure }
        return nil
    }

    @Test func theReferenceVector() {
        #expect(failure(verify(Self.secret, Self.body, Self.signature)) == nil)
        #expect(failure(verify(Self.secret, Self.body + "\n", "sha1=f42fe9d573c1ddf6f388aeb10c6e9330a07e1320")) == nil)
        #expect(failure(verify("test_secret", Self.body, "sha1=b99e8a97c5f8540099eae9ce852cd1c0fc335295")) == nil)
        #expect(failure(verify(Self.secret, Self.body + "\n", Self.signature)) == .badSignature)
    }

    @Test func theHeaderIsSha1AndFortyHexDigitsOfEitherCase() {
        var upper = Array("sha1=BED331EC2031E668907869F5ED39CF12136167A9".utf8)
        let digest = upper.withUnsafeMutableBytes { Webhook.digest(UnsafeRawBufferPointer($0)) }
        #expect(digest?.count == 20)
        #expect(digest?.first == 0xbe && digest?.last == 0xa9)
        for header in ["", "sha1=", "SHA1=" + Self.signature.dropFirst(5), String(Self.signature.dropLast()),
                       Self.signature + "0", String(Self.signature.dropLast()) + "g", "x" + Self.signature.dropFirst()] {
            #expect(failure(verify(Self.secret, Self.body, header)) == .invalidArgument(
                "the signature header is not \"sha1=\" followed by 40 hex digits"), "\(header)")
        }
    }

    @Test func anEmptySecretIsRefused() {
        #expect(failure(verify("", Self.body, Self.signature)) == .invalidArgument("the webhook secret is empty"))
    }

    @Test func theCEntryPointNeverTraps() {
        #expect(kasko_webhook_verify(nil, nil, 0, nil) == .errInvalidArgument)
        #expect(kasko_webhook_verify(Self.secret, nil, 1, Self.signature) == .errInvalidArgument)
        #expect(kasko_webhook_verify(Self.secret, nil, UInt.max, Self.signature) == .errInvalidArgument)
        #expect(kasko_webhook_verify(Self.secret, Self.body, UInt(Self.body.utf8.count), Self.signature) == .ok)
        #expect(kasko_webhook_verify(Self.secret, Self.body, UInt(Self.body.utf8.count - 1), Self.signature)
            == .errBadSignature)
    }
}
