// A real carchain-node on loopback for the scenario tests: `init` a regtest chain funding
// one address (or several), then `run` it with 50 ms blocks in private mode (or the mode
// asked: `shared` charges for reads); stopped by stop().
// The binary: $CARCHAIN_NODE_BIN, else bin/carchain-node in the test package
// (scripts/test-swift puts it there).
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

final class TestNode {
    static let chainId = "carchain-dev"
    static let agent = "e2e-agent"
    static let privateMode = "private"
    /// The mode that charges for reads (read tokens bought from the operator).
    static let sharedMode = "shared"

    let base: String
    let validatorPubkey: String
    private let process: Process
    private let dataDir: URL

    private init(base: String, validatorPubkey: String, process: Process, dataDir: URL) {
        self.base = base
        self.validatorPubkey = validatorPubkey
        self.process = process
        self.dataDir = dataDir
    }

    static func binary() throws -> URL {
        if let path = ProcessInfo.processInfo.environment["CARCHAIN_NODE_BIN"] {
            return URL(fileURLWithPath: path)
        }
        // <package>/Tests/CarChainTests/TestNode.swift -> <package>/bin/carchain-node
        let package = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let bin = package.appendingPathComponent("bin/carchain-node")
        guard FileManager.default.isExecutableFile(atPath: bin.path) else {
            throw NSError(domain: "TestNode", code: 1, userInfo: [
                NSLocalizedDescriptionKey: "carchain-node not found at \(bin.path); set CARCHAIN_NODE_BIN"
            ])
        }
        return bin
    }

    static func start(fund address: String, amount: UInt64, mode: String = privateMode) throws -> TestNode {
        try start(funds: [(address, amount)], mode: mode)
    }

    /// A node whose genesis gives each address its amount (an owner and a provider), in
    /// `mode` (`private` or `shared`).
    static func start(funds: [(address: String, amount: UInt64)], mode: String = privateMode) throws -> TestNode {
        guard mode == privateMode || mode == sharedMode else {
            throw NSError(domain: "TestNode", code: 4, userInfo: [
                NSLocalizedDescriptionKey: "mode is private or shared, not \(mode)"
            ])
        }
        let bin = try binary()
        let dataDir = FileManager.default.temporaryDirectory
            .appendingPathComponent("carchain-node-\(UUID().uuidString)")
        let initProcess = Process()
        initProcess.executableURL = bin
        initProcess.arguments = [
            "init", "--data-dir", dataDir.path, "--network", "regtest",
            "--chain-id", chainId,
        ] + funds.flatMap { ["--fund", "\($0.address)=\($0.amount)"] }
        let initOut = Pipe()
        initProcess.standardOutput = initOut
        try initProcess.run()
        let text = String(decoding: initOut.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        initProcess.waitUntilExit()
        guard initProcess.terminationStatus == 0,
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("validator_pubkey:") })
        else { throw NSError(domain: "TestNode", code: 2, userInfo: [NSLocalizedDescriptionKey: "init: \(text)"]) }
        let validator = line.dropFirst("validator_pubkey:".count).trimmingCharacters(in: .whitespaces)

        let process = Process()
        process.executableURL = bin
        process.arguments = [
            "run", "--data-dir", dataDir.path, "--listen", "127.0.0.1:0",
            "--block-time-ms", "50", "--mode", mode, "--agent", agent,
        ]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var seen = ""
        var base: String?
        while base == nil {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty {
                throw NSError(domain: "TestNode", code: 3, userInfo: [
                    NSLocalizedDescriptionKey: "carchain-node exited before listening: \(seen)"
                ])
            }
            seen += String(decoding: chunk, as: UTF8.self)
            if let line = seen.split(separator: "\n").first(where: { $0.hasPrefix("listening on ") }) {
                base = line.dropFirst("listening on ".count).trimmingCharacters(in: .whitespaces)
            }
        }
        // Keep draining its output so the node never blocks on a full pipe.
        out.fileHandleForReading.readabilityHandler = { handle in _ = handle.availableData }
        return TestNode(base: base!, validatorPubkey: validator, process: process, dataDir: dataDir)
    }

    /// Kills the node outright: a graceful stop would wait for the clients' keep-alive
    /// connections, and its throwaway chain needs no clean shutdown.
    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: dataDir)
    }
}
