import Testing
@testable import KaskoSandbox

@Suite struct ArgumentsTests {
    @Test func defaults() {
        #expect(ParsedArguments.parse([]) == .run(SandboxConfig()))
    }
}
