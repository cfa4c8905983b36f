// The trickle fault's writer: an outbound handler next to the socket (only
// in a --faults sandbox) that, while paced, hands the bytes of a response to
// the socket a few at a time with a pause between writes.
//
// It sits below the HTTP encoder, so the head and the body are both
// trickled, and the HTTP handlers above keep their usual state: keep-alive
// and pipelining work as for any response.

import NIOCore

final class Trickler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    struct Pace {
        let interval: TimeAmount
        let bytes: Int
    }

    /// Set by HTTPHandler around the writes of one trickled response: the
    /// writes made meanwhile are paced, the ones after are not (but still
    /// go out after them, in order).
    var pace: Pace?

    private struct Pending {
        var data: IOData
        let promise: EventLoopPromise<Void>?
        let pace: Pace?
    }

    private var queue = CircularBuffer<Pending>()
    private var scheduled: Scheduled<Void>?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if pace == nil && queue.isEmpty {
            context.write(data, promise: promise)
            return
        }
        queue.append(Pending(data: unwrapOutboundIn(data), promise: promise, pace: pace))
        if scheduled == nil {
            drain(context: context)
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        failPending()
        context.close(mode: mode, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failPending()
    }

    /// Writes what may go out now: everything unpaced up to the next paced
    /// piece, and that piece; then schedules itself for the rest.
    private func drain(context: ChannelHandlerContext) {
        scheduled = nil
        var mayWritePaced = true
        while let item = queue.first {
            guard context.channel.isActive else {
                failPending()
                return
            }
            guard let pace = item.pace, case .byteBuffer(var buffer) = item.data, buffer.readableBytes > 0 else {
                // Unpaced (or an empty write carrying a promise): at once.
                queue.removeFirst()
                context.writeAndFlush(wrapOutboundOut(item.data), promise: item.promise)
                continue
            }
            guard mayWritePaced else {
                scheduled = context.eventLoop.assumeIsolated().scheduleTask(in: pace.interval) {
                    self.drain(context: context)
                }
                return
            }
            mayWritePaced = false
            if buffer.readableBytes > pace.bytes, let slice = buffer.readSlice(length: pace.bytes) {
                queue[queue.startIndex].data = .byteBuffer(buffer)
                context.writeAndFlush(wrapOutboundOut(.byteBuffer(slice)), promise: nil)
            } else {
                queue.removeFirst()
                context.writeAndFlush(wrapOutboundOut(item.data), promise: item.promise)
            }
        }
    }

    private func failPending() {
        scheduled?.cancel()
        scheduled = nil
        while let item = queue.popFirst() {
            item.promise?.fail(ChannelError.ioOnClosedChannel)
        }
    }
}
