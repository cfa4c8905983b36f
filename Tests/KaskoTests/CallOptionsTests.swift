import Testing
@testable import Kasko

@Suite struct CallOptionsTests {
    static let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    @Test(arguments: [
        valid,
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
        // A later version may carry more fields after a '-'.
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    ])
    func acceptsW3CTraceparents(_ value: String) throws {
        var options = CallOptions()
        try options.setTraceparent(value)
        #expect(options.traceparent == value)
        #expect(options.problem == nil)
        #expect(options.headers == ["traceparent: " + value])
    }

    @Test(arguments: [
        "",
        "xx",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // upper case
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // zero parent id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // forbidden version
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", // 00 has four fields
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0\r",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\r\nX-Evil: 1",
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
        "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
    ])
    func refusesAnythingElseAndRemembersWhy(_ value: String) {
        var options = CallOptions()
        #expect(throws: KaskoError.self) { try options.setTraceparent(value) }
        #expect(options.traceparent == nil)
        let problem = options.problem
        #expect(problem?.status == .invalidArgument)
        #expect(problem?.message.contains("traceparent") == true)
        #expect(problem?.message.contains("\r") == false)
    }

    @Test func aValidValueClearsTheRefusal() throws {
        var options = CallOptions()
        #expect(throws: KaskoError.self) { try options.setTraceparent("bad") }
        #expect(throws: KaskoError.self) { try options.setTimeout(milliseconds: -1) }
        // The first refusal still set is the one a call reports.
        #expect(options.problem?.message.contains("traceparent") == true)
        try options.setTraceparent(CallOptionsTests.valid)
        #expect(options.problem?.message.contains("timeout_ms") == true)
        try options.setTimeout(milliseconds: 250)
        #expect(options.problem == nil)
        #expect(options.timeoutMilliseconds == 250)
        try options.setTimeout(milliseconds: 0)
        #expect(options.timeoutMilliseconds == nil)
        try options.setTraceparent(nil)
        #expect(options.headers.isEmpty)
    }

    @Test(arguments: [-1, 3_600_001, Int.max, Int.min])
    func refusesTimeoutsOutOfRange(_ value: Int) {
        var options = CallOptions()
        #expect(throws: KaskoError.self) { try options.setTimeout(milliseconds: value) }
        #expect(options.timeoutMilliseconds == nil)
        #expect(options.problem != nil)
    }

    @Test(arguments: ["a=b", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", "a=b, ,c=d", "k@v=x y", "1tenant@sys=v",
                      "a-_*/9=b ,c=d ", "a=b ,"])
    func acceptsTracestates(_ value: String) throws {
        var options = CallOptions()
        try options.setTracestate(value)
        #expect(options.headers == ["tracestate: " + value])
    }

    @Test(arguments: [
        "", "novalue", "=x", "a=", "a=b=c", "a=b\r\nX: y", "a=\u{e9}", "A=b", "1a=b", "a=b,a=c", "a@1=b",
        "a@b@c=d", " , ", "a=b\t",
        String(repeating: "a=b,", count: 33) + "a=b",
        "k=" + String(repeating: "v", count: 511),
    ])
    func refusesMalformedTracestates(_ value: String) {
        var options = CallOptions()
        #expect(throws: KaskoError.self) { try options.setTracestate(value) }
        #expect(options.problem?.message.contains("tracestate") == true)
    }
}
