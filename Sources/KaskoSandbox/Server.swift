// The HTTP/1.1 server: NIO bootstrap and the per-connection handler that
// turns request parts into complete requests and router answers into
// responses with the headers every API response carries.

import Dispatch
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

package enum Server {
    /// Binds and starts serving. Returns the listening channel and the base
    /// URL clients use (the one printed on stdout and put in `_links`).
    package static func start(config: SandboxConfig, router: Router, group: EventLoopGroup) throws -> (Channel, String) {
        // The base URL is only known after binding (port 0), but handlers
        // are configured before; they read it per connection from here.
        let baseURLBox = BaseURLBox()
        // One queue of delayed answers per event loop, found by the loop a
        // connection lands on.
        var delayedAnswers: [ObjectIdentifier: NIOLoopBound<DelayedAnswers>] = [:]
        if config.responseDelayMs > 0 {
            for loop in group.makeIterator() {
                // Made on its loop: NIOLoopBound insists.
                delayedAnswers[ObjectIdentifier(loop)] = try loop.submit {
                    NIOLoopBound(DelayedAnswers(loop: loop, delayMs: config.responseDelayMs), eventLoop: loop)
                }.wait()
            }
        }

        let perLoopAnswers = delayedAnswers
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Requests and responses are small; Nagle would add 40 ms stalls
            // to keep-alive exchanges.
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { channel in
                router.connectionAccepted()
                return channel.eventLoop.makeCompletedFuture {
                    var baseURL = baseURLBox.value.withLock { $0 }
                    if baseURL.isEmpty, let local = channel.localAddress {
                        // A connection that raced the startup: derive the URL ourselves.
                        baseURL = Server.baseURL(host: local.ipAddress ?? config.host, port: local.port ?? config.port)
                    }
                    try configurePipeline(channel.pipeline.syncOperations, router: router, baseURL: baseURL,
                                          delayedAnswers: perLoopAnswers[ObjectIdentifier(channel.eventLoop)]?.value)
                }
            }

        let channel = try bootstrap.bind(host: config.host, port: config.port).wait()
        let port = channel.localAddress?.port ?? config.port
        let url = baseURL(host: config.host, port: port)
        baseURLBox.value.withLock { $0 = url }
        return (channel, url)
    }

    /// Sets up one connection's handlers. Separate from `start` so that
    /// tests can put the very same pipeline on an EmbeddedChannel.
    /// `delayedAnswers`: the connection's event loop's queue; without one
    /// the connection queues its delayed answers by itself.
    static func configurePipeline(
        _ pipeline: ChannelPipeline.SynchronousOperations, router: Router, baseURL: String,
        delayedAnswers: DelayedAnswers? = nil
    ) throws {
        // Our own handler answers parser errors, so that those responses too
        // are JSON with a request id.
        try pipeline.configureHTTPServerPipeline(withErrorHandling: false)
        // With --faults, the trickle fault's pacer sits next to the socket;
        // without, the pipeline is as it always was.
        var trickler: Trickler?
        if router.config.faults {
            let pacer = Trickler()
            try pipeline.addHandler(pacer, position: .first)
            trickler = pacer
        }
        try pipeline.addHandler(HTTPHandler(router: router, baseURL: baseURL, trickler: trickler,
                                            delayedAnswers: delayedAnswers))
    }

    /// Turns SIGTERM/SIGINT into a close of the listening channel, which
    /// ends main's wait and lets the event loops shut down in order.
    ///
    /// Lives here, not in main.swift, because closures written in top-level
    /// code are main-actor isolated and would trap when Dispatch runs them
    /// on another thread. Keep the returned sources alive.
    package static func closeOnTermination(_ channel: Channel) -> [DispatchSourceSignal] {
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

    static let faultHeader = "X-Sandbox-Fault"
    /// How long a dropped connection waits for the peer to close its side
    /// before it is closed outright.
    static let dropLinger: TimeAmount = .seconds(10)

    private let router: Router
    private let baseURL: String
    /// The trickle fault's pacer; nil without --faults.
    private let trickler: Trickler?
    /// Where answers wait out --response-delay-ms; made on first use when
    /// the server gave none.
    private var delayedAnswers: DelayedAnswers?
    private var rng = FastRandom()

    private var head: HTTPRequestHead?
    private var body: ByteBuffer?
    private var receivedBodyBytes = 0
    private var bodyTooLarge = false
    /// Set once a closing response went out: everything after is ignored.
    private var closing = false
    /// With --faults: what was decided when the head arrived.
    private var pendingFault: PendingFault?

    private struct PendingFault {
        var fault: Fault?
        /// The request carried X-Sandbox-Fault: rules and random faults do
        /// not apply to it.
        var fromHeader = false
        /// A header that does not parse: the request is answered 400.
        var headerProblem: String?
    }

    init(router: Router, baseURL: String, trickler: Trickler? = nil, delayedAnswers: DelayedAnswers? = nil) {
        self.router = router
        self.baseURL = baseURL
        self.trickler = trickler
        self.delayedAnswers = delayedAnswers
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
            let pending = pendingFault
            self.head = nil
            body = nil
            pendingFault = nil
            receivedBodyBytes = 0
            if bodyTooLarge {
                bodyTooLarge = false
                respond(context: context, version: head.version, status: .payloadTooLarge,
                        body: Router.payloadTooLarge, keepAlive: false)
                return
            }
            let request = SandboxRequest(method: head.method, uri: head.uri, headers: head.headers, body: requestBody)
            if let faults = router.faults {
                handleWithFaults(request, head: head, pending: pending ?? PendingFault(), faults: faults,
                                 context: context)
                return
            }
            answer(router.handle(request, baseURL: baseURL, rng: &rng), head: head, context: context)
        }
    }

    /// A handled request's answer: at once, or after --response-delay-ms for
    /// an API route. The request has been carried out already; only the
    /// answer waits, on the event loop's timer.
    private func answer(_ response: SandboxResponse, head: HTTPRequestHead, context: ChannelHandlerContext) {
        let delay = router.config.responseDelayMs
        guard delay > 0, response.isAPI else {
            send(response, head: head, context: context)
            return
        }
        let queue = delayedAnswers ?? DelayedAnswers(loop: context.eventLoop, delayMs: delay)
        delayedAnswers = queue
        queue.hold(response, head: head, handler: self, context: context)
    }

    fileprivate func send(_ response: SandboxResponse, head: HTTPRequestHead, context: ChannelHandlerContext) {
        respond(context: context, version: head.version, status: response.status, body: response.body,
                extraHeaders: response.extraHeaders, keepAlive: head.isKeepAlive, omitBody: head.method == .HEAD)
    }

    private func receiveHead(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        self.head = head
        body = nil
        receivedBodyBytes = 0
        bodyTooLarge = false
        pendingFault = nil

        if let faults = router.faults {
            let pending = faultAtHead(head, faults: faults)
            pendingFault = pending
            if pending.headerProblem == nil, let fault = pending.fault, fault.drop == .beforeBody {
                // Before the body, and before any 100 Continue asking for it.
                dropConnection(context: context, afterMs: fault.delayMs)
                return
            }
        }

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
        if expectsContinue && head.version == .http1_1 {
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

    /// Writes one response. The last three parameters serve faults only:
    /// `truncateBody` sends half the body under the full Content-Length,
    /// `pace` trickles the response, `closeAfterwards` closes the connection
    /// after it without saying so in a `Connection` header.
    private func respond(
        context: ChannelHandlerContext,
        version: HTTPVersion,
        status: HTTPResponseStatus,
        body text: String,
        extraHeaders: [(String, String)] = [],
        keepAlive: Bool,
        omitBody: Bool = false,
        truncateBody: Bool = false,
        pace: Trickler.Pace? = nil,
        closeAfterwards: Bool = false
    ) {
        var buffer = context.channel.allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        let contentLength = buffer.readableBytes
        if truncateBody, let half = buffer.getSlice(at: buffer.readerIndex, length: contentLength / 2) {
            buffer = half
        }

        var headers = HTTPHeaders()
        headers.reserveCapacity(4 + extraHeaders.count)
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(contentLength))
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
        if let pace {
            trickler?.pace = pace
        }
        defer {
            if pace != nil {
                trickler?.pace = nil
            }
        }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: responseVersion, status: status, headers: headers))),
                      promise: nil)
        // A HEAD response announces the length but must not carry the body,
        // or a keep-alive client would read it as the next response.
        if !omitBody {
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        }
        if keepAlive && !closeAfterwards {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            closing = true
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
                channel.close(promise: nil)
            }
        }
    }

    // MARK: - Fault injection (only with --faults)

    /// Reads X-Sandbox-Fault and, for a view, counts the request and takes
    /// its key's rule: both are known from the head alone.
    private func faultAtHead(_ head: HTTPRequestHead, faults: FaultRegistry) -> PendingFault {
        var pending = PendingFault()
        let values = head.headers[Self.faultHeader]
        if !values.isEmpty {
            pending.fromHeader = true
            if values.count > 1 {
                pending.headerProblem = "Send at most one \(Self.faultHeader) header."
            } else {
                switch Fault.parse(json: values[0]) {
                case .success(let fault): pending.fault = fault
                case .failure(let problem): pending.headerProblem = "\(Self.faultHeader): \(problem.message)"
                }
            }
        }
        if case .view(let key) = Router.faultTarget(method: head.method, uri: head.uri) {
            let ruleFault = faults.noteRequest(key: key, consultRules: !pending.fromHeader,
                                               route: Router.faultRoute(method: head.method, uri: head.uri))
            if !pending.fromHeader {
                pending.fault = ruleFault
            }
        }
        return pending
    }

    /// A complete request in a --faults sandbox: a create is counted and
    /// takes its rule now that its policy_id is known; then the fault, if
    /// any, is carried out (after its delay).
    private func handleWithFaults(
        _ request: SandboxRequest, head: HTTPRequestHead, pending: PendingFault, faults: FaultRegistry,
        context: ChannelHandlerContext
    ) {
        if let problem = pending.headerProblem {
            respond(context: context, version: head.version, status: .badRequest,
                    body: JSON.error(status: "Bad Request", message: problem), keepAlive: head.isKeepAlive,
                    omitBody: head.method == .HEAD)
            return
        }
        let target = Router.faultTarget(method: head.method, uri: head.uri)
        var fault = pending.fault
        var viewKey: String?
        var createKey: String?
        switch target {
        case .view(let key):
            viewKey = key
        case .create:
            let route = Router.faultRoute(method: head.method, uri: head.uri)
            if let field = route?.createKeyField, let key = Router.createFaultKey(request.body, field: field) {
                createKey = key
                let ruleFault = faults.noteRequest(key: key, consultRules: !pending.fromHeader, route: route)
                if !pending.fromHeader {
                    fault = ruleFault
                }
            }
        case .otherAPI, .other:
            break
        }
        if fault == nil, !pending.fromHeader, faults.randomProbability > 0, target.isAPI,
           Double(rng.next() >> 11) * 0x1p-53 < faults.randomProbability {
            fault = Fault.randomChoices[Int.random(in: 0..<Fault.randomChoices.count, using: &rng)]
        }

        guard let fault else {
            answer(router.handle(request, baseURL: baseURL, rng: &rng), head: head, context: context)
            return
        }
        if fault.delayMs > 0 {
            context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(fault.delayMs))) {
                self.carryOut(fault, request: request, head: head, viewKey: viewKey, createKey: createKey,
                              context: context)
            }
        } else {
            carryOut(fault, request: request, head: head, viewKey: viewKey, createKey: createKey, context: context)
        }
    }

    /// Everything of a fault but its delay. A request is carried out even
    /// when the client has gone meanwhile, as a real server would.
    private func carryOut(
        _ fault: Fault, request: SandboxRequest, head: HTTPRequestHead, viewKey: String?, createKey: String?,
        context: ChannelHandlerContext
    ) {
        if let drop = fault.drop {
            if drop == .afterBody {
                _ = router.handle(request, baseURL: baseURL, rng: &rng)
            }
            dropConnection(context: context, afterMs: 0)
            return
        }
        if fault.reset {
            resetConnection(context: context)
            return
        }

        var status = HTTPResponseStatus.ok
        var text: String
        var extraHeaders: [(String, String)] = []
        var keepAlive = head.isKeepAlive
        var truncate = false
        if let code = fault.status {
            status = HTTPResponseStatus(statusCode: code)
            text = fault.rawBody ?? FaultBodies.statusError(status)
            if let retryAfter = fault.retryAfter {
                extraHeaders.append(("Retry-After", retryAfter))
            }
        } else if let kind = fault.bodyKind {
            switch kind {
            case .nonJSON:
                text = FaultBodies.nonJSON
            case .notPayment:
                text = FaultBodies.notPayment
            case .oversized:
                text = FaultBodies.oversized(FaultBodies.paymentLike(
                    id: viewKey, policyId: createKey, livemode: router.config.livemode, baseURL: baseURL))
            case .truncated:
                text = FaultBodies.paymentLike(
                    id: viewKey, policyId: createKey, livemode: router.config.livemode, baseURL: baseURL)
                truncate = true
                // The promised rest never comes: the connection ends.
                keepAlive = false
            }
        } else {
            let response = router.handle(request, baseURL: baseURL, rng: &rng)
            status = response.status
            text = response.body
            extraHeaders = response.extraHeaders
        }
        let pace = fault.trickleMs.map { Trickler.Pace(interval: .milliseconds(Int64($0)), bytes: fault.trickleBytes) }
        respond(context: context, version: head.version, status: status, body: text, extraHeaders: extraHeaders,
                keepAlive: keepAlive, omitBody: head.method == .HEAD || !status.mayHaveResponseBody,
                truncateBody: truncate, pace: pace, closeAfterwards: fault.close == .afterResponse)
    }

    /// Ends the connection without a response: our side is shut (FIN), and
    /// whatever the peer still sends is read and ignored, so that no unread
    /// data turns the close into a reset. A peer that never closes its side
    /// is cut off after `dropLinger`.
    private func dropConnection(context: ChannelHandlerContext, afterMs delayMs: Int) {
        closing = true
        let loop = context.eventLoop.assumeIsolated()
        let drop = {
            context.close(mode: .output, promise: nil)
            let cutOff = loop.scheduleTask(in: Self.dropLinger) {
                context.close(promise: nil)
            }
            context.channel.closeFuture.whenComplete { _ in cutOff.cancel() }
        }
        if delayMs > 0 {
            loop.scheduleTask(in: .milliseconds(Int64(delayMs))) { drop() }
        } else {
            drop()
        }
    }

    /// Ends the connection with a TCP RST: SO_LINGER 0, then close.
    private func resetConnection(context: ChannelHandlerContext) {
        closing = true
        let channel = context.channel
        guard let options = channel as? SocketOptionProvider else {
            channel.close(promise: nil)
            return
        }
        options.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}

/// The answers --response-delay-ms holds back on one event loop, under one
/// timer. Every answer waits the same delay, so they fall due in the order
/// they were queued, and a FIFO does what a timer per answer did: with 1000
/// connections waiting, NIO's timer heap (sifting and copying 1000 tasks)
/// was about a tenth of the sandbox's CPU.
///
/// Used on its event loop only (NIOLoopBound hands it out there).
final class DelayedAnswers {
    private struct Held {
        let due: NIODeadline
        let response: SandboxResponse
        let head: HTTPRequestHead
        let handler: HTTPHandler
        let context: ChannelHandlerContext
    }

    private let loop: EventLoop
    private let delay: TimeAmount
    private var held = CircularBuffer<Held>()
    /// A timer is set for the first held answer, or its answers are being
    /// sent: either way, holding one more must not set another.
    private var timerSet = false

    init(loop: EventLoop, delayMs: Int) {
        self.loop = loop
        delay = .milliseconds(Int64(delayMs))
    }

    /// Sends the answer once the delay has passed, as its own timer would
    /// have; the channel may have gone by then, as it could before.
    fileprivate func hold(
        _ response: SandboxResponse, head: HTTPRequestHead, handler: HTTPHandler, context: ChannelHandlerContext
    ) {
        // The loop's clock, not the wall's: an EmbeddedEventLoop's is its own.
        let due = loop.now + delay
        held.append(Held(due: due, response: response, head: head, handler: handler, context: context))
        if !timerSet {
            setTimer(due)
        }
    }

    private func setTimer(_ due: NIODeadline) {
        timerSet = true
        loop.assumeIsolated().scheduleTask(deadline: due) { self.sendDue() }
    }

    private func sendDue() {
        // A send can hold a new answer (the next pipelined request is read
        // once a response ends); it is due a whole delay later, so the loop
        // stops before it, and timerSet keeps it from setting a second timer.
        // Moved out by removeFirst, not copied by first: a copy retains
        // every part of the response and the request head.
        let now = loop.now
        while !held.isEmpty, held[held.startIndex].due <= now {
            let answer = held.removeFirst()
            answer.handler.send(answer.response, head: answer.head, context: answer.context)
        }
        if let next = held.first {
            setTimer(next.due)
        } else {
            timerSet = false
        }
    }
}
