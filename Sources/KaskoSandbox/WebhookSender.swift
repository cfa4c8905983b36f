// Sends webhooks (--webhook-url): one POST per attempt over NIO's HTTP/1.1
// client, signed with HMAC-SHA1 of the exact body bytes; redelivered with
// event-loop timers, never sleeps, after backoff doubling from
// --webhook-backoff-ms, up to --webhook-attempts attempts in all.
//
// KASKO documents no retry policy; this one is the sandbox's choice
// (docs/sandbox.md). Only a 2xx acknowledges: a 3xx, another status, a
// connection failure or no answer within 5 s is a failed attempt.

import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The sandbox's version, for User-Agent; the same as the library it ships
/// with (Sources/Kasko/Version.swift, which this target cannot import).
enum SandboxVersion {
    static let text = "1.4.0"
}

final class WebhookSender: Sendable {
    static let attemptTimeout = TimeAmount.seconds(5)
    static let userAgent = "kasko-sandbox/" + SandboxVersion.text

    let target: WebhookTarget
    private let secret: [UInt8]
    let backoffMs: Int
    let maxAttempts: Int
    let log: DeliveryLog
    private let group: EventLoopGroup

    init(target: WebhookTarget, secret: String, backoffMs: Int, maxAttempts: Int, log: DeliveryLog,
         group: EventLoopGroup) {
        self.target = target
        self.secret = Array(secret.utf8)
        self.backoffMs = backoffMs
        self.maxAttempts = max(1, maxAttempts)
        self.log = log
        self.group = group
    }

    /// "sha1=" + 40 lowercase hex: HMAC-SHA1(secret, body).
    func signature(_ body: [UInt8]) -> String {
        "sha1=" + HMACSHA1.hex(key: secret, message: body)
    }

    /// Records a delivery and makes its first attempt now.
    func send(event: String, policyId: String, body: String) {
        let delivery = log.start(event: event, policyId: policyId)
        attempt(delivery: delivery, event: event, body: Array(body.utf8), number: 1)
    }

    /// The wait before attempt `number + 1`: base, 2 × base, 4 × base, ...
    func backoff(afterAttempt number: Int) -> TimeAmount {
        let doublings = min(max(0, number - 1), 30)
        return .milliseconds(Int64(backoffMs) << Int64(doublings))
    }

    private func attempt(delivery: String, event: String, body: [UInt8], number: Int) {
        let loop = group.next()
        let outcome = AttemptOutcome(promise: loop.makePromise(of: DeliveryAttempt.self))
        outcome.promise.futureResult.whenSuccess { result in
            let last = number >= self.maxAttempts
            self.log.record(result, delivery: delivery, last: last)
            guard !result.acknowledged, !last else { return }
            loop.scheduleTask(in: self.backoff(afterAttempt: number)) {
                self.attempt(delivery: delivery, event: event, body: body, number: number + 1)
            }
        }

        guard !target.secure else {
            // No TLS library may be added to the sandbox: https URLs are
            // accepted (the contract allows them) but cannot be reached.
            outcome.finish(error: "https is not supported by the sandbox's webhook sender")
            return
        }

        let timeout = loop.scheduleTask(in: Self.attemptTimeout) {
            outcome.finish(error: "no answer within 5 s")
        }
        outcome.promise.futureResult.whenComplete { _ in timeout.cancel() }

        var headers = HTTPHeaders()
        headers.add(name: "Host", value: target.hostHeader)
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "User-Agent", value: Self.userAgent)
        headers.add(name: "X-KASKO-Event", value: event)
        headers.add(name: "X-KASKO-Delivery", value: delivery)
        headers.add(name: "X-KASKO-Signature", value: signature(body))
        headers.add(name: "Connection", value: "close")
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: target.target, headers: headers)

        ClientBootstrap(group: loop)
            .connectTimeout(Self.attemptTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(
                        WebhookExchangeHandler(head: head, body: body, outcome: outcome))
                }
            }
            .connect(host: target.host, port: target.port)
            .whenComplete { result in
                switch result {
                case .failure(let error):
                    outcome.finish(error: "cannot connect: \(error)")
                case .success(let channel):
                    // Whatever ends the attempt (answer, timeout) ends the connection.
                    outcome.promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
                }
            }
    }
}

/// One attempt's result, completed once by whichever comes first: the
/// answer, a connection error, or the timeout.
final class AttemptOutcome: Sendable {
    let promise: EventLoopPromise<DeliveryAttempt>
    private let done = Mutex(false)

    init(promise: EventLoopPromise<DeliveryAttempt>) {
        self.promise = promise
    }

    func finish(status: Int) {
        finish(DeliveryAttempt(at: Timestamps.nowISO8601(), httpStatus: status, error: nil))
    }

    func finish(error: String) {
        finish(DeliveryAttempt(at: Timestamps.nowISO8601(), httpStatus: nil, error: error))
    }

    private func finish(_ attempt: DeliveryAttempt) {
        let first = done.withLock { done in
            defer { done = true }
            return !done
        }
        if first { promise.succeed(attempt) }
    }
}

/// Writes the request once connected and reports the answer's status once
/// the whole answer has arrived.
final class WebhookExchangeHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let head: HTTPRequestHead
    private let body: [UInt8]
    private let outcome: AttemptOutcome
    private var status: Int?

    init(head: HTTPRequestHead, body: [UInt8], outcome: AttemptOutcome) {
        self.head = head
        self.body = body
        self.outcome = outcome
    }

    func channelActive(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let response):
            status = Int(response.status.code)
        case .body:
            break
        case .end:
            if let status { outcome.finish(status: status) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // A status without a complete body still says what the receiver meant.
        if let status {
            outcome.finish(status: status)
        } else {
            outcome.finish(error: "the connection closed before an answer")
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let status {
            outcome.finish(status: status)
        } else {
            outcome.finish(error: "\(error)")
        }
        context.close(promise: nil)
    }
}
