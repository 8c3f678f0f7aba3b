// The host's side of CarChain: a SecretStore (Keychain stand-in) and a Logger.
import CarChain
import Foundation
import XCTest

final class MemorySecretStore: SecretStore, @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String: Data] = [:]
    private var log: [String] = []
    private let deny: Bool

    init(deny: Bool = false) { self.deny = deny }

    var calls: [String] { lock.withLock { log } }
    func value(_ name: String) -> Data? { lock.withLock { values[name] } }

    func load(name: String) throws -> Data? {
        lock.withLock {
            log.append("load \(name)")
            return values[name]
        }
    }

    func save(name: String, secret: Data) throws {
        try lock.withLock {
            log.append("save \(name)")
            if deny { throw SecretStoreError.AccessDenied }
            values[name] = secret
        }
    }

    func delete(name: String) throws {
        lock.withLock {
            log.append("delete \(name)")
            values[name] = nil
        }
    }
}

final class CollectingLogger: Logger, @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(LogLevel, String, String)] = []

    var records: [(LogLevel, String, String)] { lock.withLock { entries } }

    func log(level: LogLevel, target: String, message: String) {
        lock.withLock { entries.append((level, target, message)) }
    }
}

final class HostCallbacksTests: XCTestCase {
    func testWalletStoreKeepsItsMasterKeyInTheHostStoreAndLogsTheMigration() throws {
        let logger = CollectingLogger()
        setLogger(logger: logger, level: .info)
        defer { clearLogger() }
        let secrets = MemorySecretStore()
        let store = try WalletStore.openInMemory(secrets: secrets)
        XCTAssertGreaterThanOrEqual(try store.schemaVersion(), 1)
        let name = "carchain.wallet.master-key"
        XCTAssertEqual(secrets.calls, ["load \(name)", "save \(name)"])
        XCTAssertEqual(secrets.value(name)?.count, 32)
        let migrated = logger.records.filter { $0.2.hasPrefix("wallet store migrated") }
        XCTAssertFalse(migrated.isEmpty, "records: \(logger.records)")
        XCTAssertEqual(migrated.first?.0, .info)
        XCTAssertTrue(migrated.first?.1.hasPrefix("carchain_core::store") ?? false)
    }

    func testARefusingHostStoreIsATypedError() {
        XCTAssertThrowsError(try WalletStore.openInMemory(secrets: MemorySecretStore(deny: true))) {
            error in
            guard case CarChainError.SecretStore(let code, _) = error else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(code, "store.secret_store")
        }
    }
}
