// The HTTP/1.1 server: NIO bootstrap and the per-connection handler that
// turns request parts into complete requests and router answers into
// responses with the headers every API response carries.

import Dispatch
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

enum Server {
    /// Binds and starts serving. Returns the listening channel and the base
    /// URL clients use (the one printed on stdout and put in `_links`).
    static func start(config: SandboxConfig, router: Router, group: EventLoopGroup) throws -> (Channel, String) {
        // The base URL is only known after binding (port 0), but handlers
        // are configured before; they read it per connection from here.
        let baseURLBox = BaseURLBox()

        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Requests and responses are small; Nagle would add 40 ms stalls
            // to keep-alive exchanges.
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    var baseURL = baseURLBox.value.withLock { $0 }
                    if baseURL.isEmpty, let local = channel.localAddress {
                        // A connection that raced the startup: derive the URL ourselves.
                        baseURL = Server.baseURL(host: local.ipAddress ?? config.host, port: local.port ?? config.port)
                    }
                    // Our own handler answers parser errors, so that those
                    // responses too are JSON with a request id.
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: false)
                    try channel.pipeline.syncOperations.addHandler(HTTPHandler(router: router, baseURL: baseURL))
                }
            }

        let channel = try bootstrap.bind(host: config.host, port: config.port).wait()
        let port = channel.localAddress?.port ?? config.port
        let url = baseURL(host: config.host, port: port)
        baseURLBox.value.withLock { $0 = url }
        return (channel, url)
    }

    /// Turns SIGTERM/SIGINT into a close of the listening channel, which
    /// ends main's wait and lets the event loops shut down in order.
    ///
    /// Lives here, not in main.swift, because closures written in top-level
    /// code are main-actor isolated and would trap when Dispatch runs them
    /// on another thread. Keep the returned sources alive.
    static func closeOnTermination(_ channel: Channel) -> [DispatchSourceSignal] {
        [SIGTERM, SIGINT].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { @Sendable in
                channel.close(promise: nil)
            }
            source.resume()
            return source
        }
    }

    static func baseURL(host: String, port: Int) -> String {
        // IPv6 literals need brackets in URLs.
        let urlHost = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return "http://\(urlHost):\(port)"
    }
}

/// A class, because a Mutex cannot be captured by escaping closures.
private final class BaseURLBox: Sendable {
    let value = Mutex("")
}

/// One per connection, so its state needs no locking.
final class HTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let maxBodyBytes = 1 << 20
    /// An oversized body is read and dropped up to this much, so that the
    /// client is still reading when the 413 arrives (closing on unread data
    /// makes the kernel send RST, which can destroy the response in flight).
    /// Past it the peer is abusive and gets cut off.
    static let maxDiscardedBytes = 16 << 20

    private let router: Router
    private let baseURL: String
    private var rng = FastRandom()

    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var receivedBodyBytes = 0
    private var bodyTooLarge = false
    /// Set once a closing response went out: everything after is ignored.
    private var closing = false

    init(router: Router, baseURL: String) {
        self.router = router
        self.baseURL = baseURL
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            receiveHead(head, context: context)
        case .body(var chunk):
            guard head != nil else { return }
            receivedBodyBytes += chunk.readableBytes
            if bodyTooLarge || receivedBodyBytes > Self.maxBodyBytes {
                bodyTooLarge = true
                body = nil
                if receivedBodyBytes > Self.maxDiscardedBytes {
                    respond(context: context, version: .http1_1, status: .payloadTooLarge,
                            body: Router.payloadTooLarge, keepAlive: false)
                }
                return
            }
            if body == nil {
                body = chunk
            } else {
                body?.writeBuffer(&chunk)
            }
        case .end:
            guard let head else { return }
            let requestBody = body
            self.head = nil
            body = nil
            receivedBodyBytes = 0
            if bodyTooLarge {
                bodyTooLarge = false
                respond(context: context, version: head.version, status: .payloadTooLarge,
                        body: Router.payloadTooLarge, keepAlive: false)
                return
            }
            let request = SandboxRequest(method: head.method, uri: head.uri, headers: head.headers, body: requestBody)
            let response = router.handle(request, baseURL: baseURL, rng: &rng)
            respond(context: context, version: head.version, status: response.status, body: response.body,
                    extraHeaders: response.extraHeaders, keepAlive: head.isKeepAlive)
        }
    }

    private func receiveHead(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        self.head = head
        body = nil
        receivedBodyBytes = 0
        bodyTooLarge = false

        let expectsContinue = head.headers["Expect"].contains { $0.lowercased() == "100-continue" }
        if let declared = head.headers.first(name: "Content-Length").flatMap({ Int($0) }),
           declared > Self.maxBodyBytes {
            if expectsContinue {
                // The client is waiting for our word before sending: refuse now.
                respond(context: context, version: head.version, status: .payloadTooLarge,
                        body: Router.payloadTooLarge, keepAlive: false)
            } else {
                bodyTooLarge = true
            }
            return
        }
        if expectsContinue {
            // Without this, curl/libcurl wait a full second before sending bodies.
            let interim = HTTPResponseHead(version: head.version, status: .continue)
            context.writeAndFlush(wrapOutboundOut(.head(interim)), promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let parserError = error as? HTTPParserError, !closing else {
            context.close(promise: nil)
            return
        }
        // Responses are written whole, synchronously, so none is ever half
        // sent here: an answer can always go out before closing.
        if parserError == .headerOverflow {
            respond(context: context, version: .http1_1, status: .requestHeaderFieldsTooLarge,
                    body: Router.headersTooLarge, keepAlive: false)
        } else {
            respond(context: context, version: .http1_1, status: .badRequest,
                    body: Router.malformedRequest, keepAlive: false)
        }
    }

    private func respond(
        context: ChannelHandlerContext,
        version: HTTPVersion,
        status: HTTPResponseStatus,
        body text: String,
        extraHeaders: [(String, String)] = [],
        keepAlive: Bool
    ) {
        var buffer = context.channel.allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)

        var headers = HTTPHeaders()
        headers.reserveCapacity(4 + extraHeaders.count)
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(buffer.readableBytes))
        headers.add(name: "X-Request-Id", value: Identifiers.requestId(using: &rng))
        if !keepAlive {
            headers.add(name: "Connection", value: "close")
        } else if version.major == 1 && version.minor == 0 {
            // HTTP/1.0 closes by default; say explicitly that we keep it open.
            headers.add(name: "Connection", value: "keep-alive")
        }
        for (name, value) in extraHeaders {
            headers.add(name: name, value: value)
        }

        let responseVersion: HTTPVersion = version.major == 1 && version.minor == 0 ? .http1_0 : .http1_1
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: responseVersion, status: status, headers: headers))),
                      promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            closing = true
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                channel.close(promise: nil)
            }
        }
    }
}
