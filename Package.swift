// swift-tools-version:6.0
// libkasko: a KASKO Payments API client, shipped as a C shared library.
// Layout and the C contract: see README.md and DESIGN notes in the repo.
import PackageDescription

// Release builds of the library skip the run-time exclusivity checks (the
// compiler still proves exclusivity statically): they cost ~700 instructions
// per call on the hot path, and this code has no dynamic overlapping access.
// Debug builds, and so `swift test`, keep them.
let releaseSettings: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "libkasko",
    products: [
        // The C-ABI shared library. The Makefile links it with a SONAME, a
        // version script and the Swift runtime linked statically; see
        // scripts/link-library.
        .library(name: "kasko", type: .dynamic, targets: ["KaskoC"]),
        .executable(name: "kasko-sandbox", targets: ["kasko-sandbox"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .target(
            name: "CCurl",
            // libcrypto (OpenSSL 3, which libcurl4-openssl loads anyway): the
            // HMAC-SHA1 of webhook signatures (webhook_hmac.c).
            linkerSettings: [.linkedLibrary("curl"), .linkedLibrary("crypto")]
        ),
        .target(name: "Kasko", dependencies: ["CCurl"], swiftSettings: releaseSettings),
        .target(name: "KaskoC", dependencies: ["Kasko"], swiftSettings: releaseSettings),
        // The sandbox's HMAC-SHA1 (webhook signatures, quote tokens), from
        // the system libcrypto like CCurl's, but without the library's
        // libcurl and fork gate.
        .target(name: "CSandboxHMAC", linkerSettings: [.linkedLibrary("crypto")]),
        // The sandbox's behaviour, in a library so that its tests can drive
        // the router and the connection handler without sockets or a process.
        .target(
            name: "KaskoSandbox",
            dependencies: [
                "CSandboxHMAC",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Only what needs a process: arguments, stdout, signals, exit codes.
        .executableTarget(
            name: "kasko-sandbox",
            dependencies: [
                "KaskoSandbox",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "KaskoTests", dependencies: ["Kasko", "KaskoC"]),
        // Runs without a sandbox process: EmbeddedChannel stands in for sockets.
        .testTarget(
            name: "KaskoSandboxTests",
            dependencies: [
                "KaskoSandbox",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
    ]
)
