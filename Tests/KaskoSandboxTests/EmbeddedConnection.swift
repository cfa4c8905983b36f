// One sandbox connection without a socket: the server's own pipeline on an
// EmbeddedChannel, raw request bytes in, raw response bytes out, and the
// embedded event loop's clock moved by hand (so delays need no sleeping).

import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
@testable import KaskoSandbox

final class EmbeddedConnection {
    static let baseURL = "http://127.0.0.1:8420"

    let channel = EmbeddedChannel()
    let router: Router
    private var received: [UInt8] = []

    init(router: Router) throws {
        self.router = router
        try Server.configurePipeline(channel.pipeline.syncOperations, router: router, baseURL: Self.baseURL)
        channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 50_000), promise: nil)
    }

    convenience init(_ configure: (inout SandboxConfig) -> Void = { _ in }) throws {
        var config = SandboxConfig()
        configure(&config)
        try self.init(router: Router(config: config))
    }

    var isOpen: Bool { channel.isActive }

    /// Writes raw bytes as the client would. A connection the sandbox has
    /// closed takes nothing: the write is dropped, as the kernel would.
    func send(_ text: String) throws {
        guard channel.isActive else { return }
        try channel.writeInbound(ByteBuffer(string: text))
    }

    func send(_ bytes: [UInt8]) throws {
        guard channel.isActive else { return }
        try channel.writeInbound(ByteBuffer(bytes: bytes))
    }

    /// Everything written to the "socket" since the last call, write by write.
    func writes() throws -> [[UInt8]] {
        var chunks: [[UInt8]] = []
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) {
            chunks.append(Array(buffer.readableBytesView))
        }
        received += chunks.joined()
        return chunks
    }

    /// The complete responses received so far, in order; a partial one
    /// stays buffered for the next call.
    func responses(headRequest: Bool = false) throws -> [RawResponse] {
        _ = try writes()
        var result: [RawResponse] = []
        while let (response, used) = RawResponse.parse(received, headRequest: headRequest) {
            result.append(response)
            received.removeFirst(used)
        }
        return result
    }

    /// What arrived but is not a complete response (for truncated bodies).
    var leftover: [UInt8] { received }

    func advanceTime(by amount: TimeAmount) {
        channel.embeddedEventLoop.advanceTime(by: amount)
    }

    func finish() {
        _ = try? channel.finish(acceptAlreadyClosed: true)
    }
}

/// One HTTP/1.x response as bytes on the wire.
struct RawResponse {
    let version: String
    let status: Int
    let headers: [(String, String)]
    let body: [UInt8]

    var text: String { String(decoding: body, as: UTF8.self) }
    var object: [String: Any]? { JSONText.object(text) }

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    func headerValues(_ name: String) -> [String] {
        headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1)
    }

    /// A response at the start of `bytes` and how many bytes it took, or nil
    /// while it is incomplete. Only what the sandbox sends: Content-Length
    /// bodies, none for 1xx, 204, 304 and HEAD.
    static func parse(_ bytes: [UInt8], headRequest: Bool) -> (RawResponse, Int)? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard bytes.count >= 4,
              let end = (0...(bytes.count - 4)).first(where: { Array(bytes[$0..<$0 + 4]) == separator })
        else { return nil }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusLine = lines[0].split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        let headers = lines.dropFirst().map { line -> (String, String) in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? parts[1].trimmingCharacters(in: .whitespaces) : "")
        }
        var response = RawResponse(version: String(statusLine[0]), status: status, headers: headers, body: [])
        let bodyStart = end + 4
        let noBody = headRequest || status < 200 || status == 204 || status == 304
        let length = noBody ? 0 : Int(response.header("Content-Length") ?? "0") ?? 0
        guard bytes.count >= bodyStart + length else { return nil }
        response = RawResponse(version: response.version, status: status, headers: headers,
                               body: Array(bytes[bodyStart..<bodyStart + length]))
        return (response, bodyStart + length)
    }
}

extension String {
    /// An HTTP/1.1 request with a Content-Length body when there is one.
    static func request(
        _ method: String, _ target: String, headers: [(String, String)] = [], body: String? = nil,
        version: String = "HTTP/1.1"
    ) -> String {
        var text = "\(method) \(target) \(version)\r\nHost: sandbox.test\r\n"
        for (name, value) in headers {
            text += "\(name): \(value)\r\n"
        }
        if let body {
            text += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
        }
        text += "\r\n" + (body ?? "")
        return text
    }
}
