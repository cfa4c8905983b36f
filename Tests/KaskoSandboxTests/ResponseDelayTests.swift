// --response-delay-ms on one connection, on the embedded loop's clock: API
// answers wait the delay from their request's arrival, in order, while the
// sandbox's own routes answer at once.

import NIOCore
import Testing
@testable import KaskoSandbox

@Suite struct ResponseDelayTests {
    @Test func anAPIAnswerWaitsExactlyTheDelay() throws {
        let connection = try EmbeddedConnection { $0.responseDelayMs = 100 }
        defer { connection.finish() }
        try connection.send(.request("GET", "/payments/t1"))
        #expect(try connection.responses().isEmpty)
        connection.advanceTime(by: .milliseconds(99))
        #expect(try connection.responses().isEmpty)
        connection.advanceTime(by: .milliseconds(1))
        #expect(try connection.responses().map(\.status) == [401])
        #expect(connection.isOpen)
    }

    @Test func theSandboxsOwnRoutesAnswerAtOnce() throws {
        let connection = try EmbeddedConnection { $0.responseDelayMs = 100 }
        defer { connection.finish() }
        try connection.send(.request("GET", "/__sandbox/health"))
        #expect(try connection.responses().map(\.status) == [200])
    }

    /// A pipelined request is read once the answer before it has gone, so
    /// its own delay starts then.
    @Test func pipelinedAPIRequestsEachWaitTheirDelayInOrder() throws {
        let connection = try EmbeddedConnection { $0.responseDelayMs = 100 }
        defer { connection.finish() }
        try connection.send(.request("GET", "/payments/t1") + .request("GET", "/nowhere")
            + .request("GET", "/quotes/x"))
        connection.advanceTime(by: .milliseconds(100))
        #expect(try connection.responses().map(\.status) == [401, 404])
        connection.advanceTime(by: .milliseconds(99))
        #expect(try connection.responses().isEmpty)
        connection.advanceTime(by: .milliseconds(1))
        #expect(try connection.responses().map(\.status) == [404])
    }

    /// Answers held on one queue at different times go out each at its own
    /// time, not all with the first.
    @Test func answersHeldAtDifferentTimesLeaveAtTheirOwn() throws {
        let connection = try EmbeddedConnection { $0.responseDelayMs = 100 }
        defer { connection.finish() }
        try connection.send(.request("GET", "/payments/t1"))
        connection.advanceTime(by: .milliseconds(100))
        #expect(try connection.responses().count == 1)
        try connection.send(.request("GET", "/payments/t2"))
        connection.advanceTime(by: .milliseconds(50))
        #expect(try connection.responses().isEmpty)
        connection.advanceTime(by: .milliseconds(50))
        #expect(try connection.responses().count == 1)
    }
}
