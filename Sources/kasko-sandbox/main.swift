// kasko-sandbox: a local emulator of the KASKO Payments API.
//
// Entry point: arguments, bootstrap, the URL line on stdout, and a clean
// exit on SIGTERM/SIGINT. Tests start it with `--port 0` and read the first
// stdout line, so that line must be the URL alone and must be flushed.

import Foundation
import KaskoSandbox
import NIOCore
import NIOPosix

func writeStandardError(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}

let config: SandboxConfig
switch ParsedArguments.parse(Array(CommandLine.arguments.dropFirst())) {
case .help:
    FileHandle.standardOutput.write(Data(ParsedArguments.usage.utf8))
    exit(0)
case .invalid(let message):
    writeStandardError("kasko-sandbox: \(message)\nTry 'kasko-sandbox --help'.\n")
    exit(2)
case .run(let parsed):
    config = parsed
}

// A client that disconnects mid-write must not kill the server.
signal(SIGPIPE, SIG_IGN)

let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
let router = Router(config: config, group: group)
let serverChannel: Channel
let baseURL: String
do {
    (serverChannel, baseURL) = try Server.start(config: config, router: router, group: group)
} catch {
    writeStandardError("kasko-sandbox: cannot listen on \(config.host):\(config.port): \(error)\n")
    try? group.syncShutdownGracefully()
    exit(1)
}

// Unbuffered write: the URL must reach a reading pipe right away.
FileHandle.standardOutput.write(Data((baseURL + "\n").utf8))
if config.faults {
    // Never silently: a sandbox that misbehaves on request says so.
    writeStandardError("kasko-sandbox: fault injection enabled (--faults)"
        + (config.randomFaultProbability > 0 ? ", random faults p=\(config.randomFaultProbability)" : "") + "\n")
}

let signalSources = Server.closeOnTermination(serverChannel)

try? serverChannel.closeFuture.wait()
try? group.syncShutdownGracefully()
exit(0)
