// The issue 5 scenario through the Swift bindings, against a real carchain-node: restore
// a wallet, pair a car, three days of trips, sync with progress, devices, day and range
// reads, a decoded track, typed errors, a cancelled sync, the logger's records.
// The README's "Use from Swift" example is Fixture.make and the Support.swift helpers it
// calls (keep them in sync).
import CarChain
import Foundation
import XCTest

let abandonWords =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
/// The owner address core's Rust tests pin for these words on regtest.
let abandonRegtestAddress = "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk"
let vid = "VIN-SWIFT-1"

/// A 10-point trip on 2024-05-[day], 08:00 to 08:04:30 UTC: key and value JSON.
func tripJson(day: Int, session: Int) -> (key: String, value: String) {
    let date = String(format: "202405%02d", day)
    let key = "{\"SESSION_ID\":\(session),\"START_TIME\":\(date)080000,\"END_TIME\":\(date)080430}"
    let gps = (0..<10).map { i in
        "{\"lat\":\(48.1 + Double(i) * 0.002 + Double(day) * 0.01),\"lng\":\(11.5 + Double(i) * 0.0017)}"
    }.joined(separator: ",")
    let speeds = (0..<10).map { i in "\(30 + (i % 7) * 5)" }.joined(separator: ",")
    let value = "{\"len\":10,\"GPS\":[\(gps)],\"SPEED\":\"\(speeds)\",\"VEHICLE_DATA\":1,\"format\":\"trip-gps\"}"
    return (key, value)
}

final class ProgressLog: SyncListener, @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [(UInt64, UInt64)] = []
    var steps: [(UInt64, UInt64)] { lock.withLock { entries } }
    func onProgress(height: UInt64, target: UInt64) { lock.withLock { entries.append((height, target)) } }
}

/// Node, wallet and car shared by the scenario's tests (set up once).
final class Fixture: NodeFixture, @unchecked Sendable {
    let node: TestNode
    let light: LightClient
    let wallet: Wallet
    let car: CarDevice
    let logger: CollectingLogger
    let dir: URL

    init(node: TestNode, light: LightClient, wallet: Wallet, car: CarDevice, logger: CollectingLogger, dir: URL) {
        self.node = node; self.light = light; self.wallet = wallet; self.car = car
        self.logger = logger; self.dir = dir
    }

    static func make() async throws -> Fixture {
        let logger = CollectingLogger()
        setLogger(logger: logger, level: .info)
        let dir = try scratchDir("scenario")
        // Restore the owner's wallet from words (Keychain stand-in for the secrets).
        let wallet = try restoreWallet(in: dir)
        let node = try TestNode.start(fund: wallet.ownerAddress(), amount: 1_000_000)
        let light = try await syncedLightClient(of: node)
        let car = try await pairCar(wallet, light: light, dir: dir, vid: vid, name: "My car", poolSize: 16)
        // Three days of trips, queued offline, then delivered.
        try putTrips(car, days: [1, 2, 3])
        XCTAssertEqual(try car.queueLen(), 3)
        let report = try await car.flush(light: light)
        XCTAssertEqual(report.delivered, 3)
        XCTAssertEqual(try car.queueLen(), 0)
        return Fixture(node: node, light: light, wallet: wallet, car: car, logger: logger, dir: dir)
    }
}

final class WalletScenarioTests: XCTestCase {
    static let fixture = SharedFixture(Fixture.make)
    var f: Fixture { Self.fixture.value }

    override func setUp() async throws { try await Self.fixture.prepare() }

    override class func tearDown() {
        clearLogger()
        fixture.close()
    }

    func testRestoredOwnerAddressIsTheRustVector() {
        XCTAssertEqual(f.wallet.ownerAddress(), abandonRegtestAddress)
        XCTAssertEqual(f.wallet.rsaFingerprint().count, 64)
    }

    func testSyncReportsProgressAndBalanceIsProven() async throws {
        // A fresh client starts from genesis, so every page is reported.
        let fresh = try lightClient(of: f.node)
        XCTAssertEqual(fresh.verifiedHeight(), 0)
        let progress = ProgressLog()
        let height = try await fresh.sync(listener: progress)
        XCTAssertGreaterThan(height, 0)
        XCTAssertEqual(fresh.verifiedHeight(), height)
        XCTAssertFalse(progress.steps.isEmpty, "no progress reported")
        XCTAssertEqual(progress.steps.last?.0, height)
        let balance = try await fresh.balance(address: f.wallet.ownerAddress())
        XCTAssertTrue((1..<1_000_000).contains(balance), "balance \(balance)")
    }

    func testListsThePairedCar() throws {
        let devices = try f.wallet.devices()
        XCTAssertEqual(devices.count, 1)
        XCTAssertEqual(devices.first?.vid, vid)
        XCTAssertEqual(devices.first?.name, "My car")
        XCTAssertEqual(devices.first?.poolSize, 16)
        XCTAssertEqual(devices.first?.status, "paired")
    }

    func testReadsADayAndARange() async throws {
        _ = try await f.light.sync(listener: ProgressLog())
        let trip = tripJson(day: 2, session: 2)
        let record = try await f.wallet.getKv(
            light: f.light, vid: vid, date: "2024-05-02", format: "trip-gps", keyJson: trip.key, columns: [])
        XCTAssertEqual(record?.valueJson, try parseValue(text: trip.value).json)
        let none = try await f.wallet.getKv(
            light: f.light, vid: vid, date: "2024-05-03", format: "trip-gps", keyJson: trip.key, columns: [])
        XCTAssertNil(none)
        let range = try await f.wallet.getKvRange(
            light: f.light, vid: vid, fromDate: "2024-05-01", toDate: "2024-05-03", format: "trip-gps",
            startJson: "{}", endJson: "{}", columns: [])
        XCTAssertEqual(range.records.count, 3)
        XCTAssertEqual(range.missing, 0)
        XCTAssertTrue(range.rejected.isEmpty)
        let trips = try await f.wallet.trips(light: f.light, vid: vid, fromDate: "2024-05-01", toDate: "2024-05-03")
        XCTAssertEqual(trips.trips.map { $0.sessionId }, [1, 2, 3])
        XCTAssertTrue(trips.trips.allSatisfy { $0.pointCount == 10 && $0.durationS == 270 })
    }

    func testDecodesATrackWithPolylineAndGeoJson() async throws {
        _ = try await f.light.sync(listener: ProgressLog())
        let trip = tripJson(day: 3, session: 3)
        let track = try await f.wallet.trip(light: f.light, vid: vid, date: "2024-05-03", keyJson: trip.key)
        let local = try decodeTrip(keyJson: trip.key, valueJson: trip.value)
        XCTAssertEqual(track?.polyline, local.polyline)
        XCTAssertEqual(track?.geojson, local.geojson)
        XCTAssertEqual(track?.packed, local.packed)
        XCTAssertEqual(track?.summary.pointCount, 10)
        XCTAssertEqual(track?.summary.maxSpeedKmh, 60.0)
        XCTAssertTrue(track?.geojson.contains("\"LineString\"") ?? false)
    }

    func testANewPhoneRestoresTheCarFromTheBackupAndReadsIt() async throws {
        let backup = f.dir.appendingPathComponent("wallet.ccbackup").path
        try f.wallet.writeBackup(path: backup)
        // A new phone: the same words, an empty store, then the backup file.
        let phone = try restoreWallet(in: f.dir, file: "phone.db")
        XCTAssertTrue(try phone.devices().isEmpty)
        let counts = try phone.restoreBackup(path: backup)
        XCTAssertEqual(counts.devices, 1)
        let cars = try phone.devices()
        XCTAssertEqual(cars.map { $0.vid }, [vid])
        XCTAssertEqual(cars.first?.name, "My car")
        _ = try await f.light.sync(listener: ProgressLog())
        let trips = try await phone.trips(light: f.light, vid: vid, fromDate: "2024-05-01", toDate: "2024-05-03")
        XCTAssertEqual(trips.trips.map { $0.sessionId }, [1, 2, 3])
        // Another wallet (the same words with a passphrase) cannot open it, and a cut file
        // is refused by kind; neither writes anything.
        let stranger = try restoreWallet(in: f.dir, file: "stranger.db", passphrase: "other")
        XCTAssertThrowsError(try stranger.restoreBackup(path: backup)) { error in
            guard case CarChainError.Storage(let code, _) = error else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(code, "backup.wrong_wallet")
        }
        let bytes = try Data(contentsOf: URL(fileURLWithPath: backup))
        let cut = f.dir.appendingPathComponent("cut.ccbackup")
        try bytes.prefix(bytes.count / 2).write(to: cut)
        XCTAssertThrowsError(try stranger.restoreBackup(path: cut.path)) { error in
            guard case CarChainError.Storage(let code, _) = error else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(code, "backup.truncated")
        }
        XCTAssertTrue(try stranger.devices().isEmpty)
    }

    func testAnExportVerifiesWithoutTheWalletAndAChangedOneIsRefused() async throws {
        let archive = f.dir.appendingPathComponent("car.tar").path
        let written = try await f.wallet.export(
            light: f.light, vid: vid, fromDate: "2024-05-01", toDate: "2024-05-03", path: archive)
        XCTAssertEqual(written.records, 3)
        XCTAssertEqual(written.trips, 3)
        // Anyone verifies it offline, with the chain's anchor and without any wallet key.
        let trusted = TrustedAnchor(
            chainId: TestNode.chainId, network: .regtest, validatorPubkeyHex: f.node.validatorPubkey)
        XCTAssertEqual(try verifyExport(path: archive, trusted: trusted), written)
        XCTAssertEqual(
            try verifyExport(path: archive, trusted: nil).validatorPubkeyHex, f.node.validatorPubkey)
        // One changed byte of a decrypted record, a cut archive: refused by kind.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: archive))
        let original = bytes
        let at = bytes.range(of: Data("trip-gps".utf8))!.lowerBound
        bytes[at] = UInt8(ascii: "T")
        let changed = f.dir.appendingPathComponent("changed.tar")
        try bytes.write(to: changed)
        XCTAssertThrowsError(try verifyExport(path: changed.path, trusted: nil)) { error in
            guard case CarChainError.InvalidRecord(let code, _) = error else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(code, "export.file_changed")
        }
        let cut = f.dir.appendingPathComponent("cut.tar")
        try original.prefix(original.count / 2).write(to: cut)
        XCTAssertThrowsError(try verifyExport(path: cut.path, trusted: nil)) { error in
            guard case CarChainError.InvalidInput(let code, _) = error else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(code, "export.truncated")
        }
        // A car this wallet does not have: typed, and no file.
        let none = f.dir.appendingPathComponent("none.tar").path
        do {
            _ = try await f.wallet.export(
                light: f.light, vid: "NOT-MY-CAR", fromDate: "2024-05-01", toDate: "2024-05-03",
                path: none)
            XCTFail("exported a car this wallet does not have")
        } catch CarChainError.NotFound(let code, _) {
            XCTAssertEqual(code, "export.unknown_car")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: none))
    }

    func testWrongWordsAreATypedError() {
        let words = abandonWords.replacingOccurrences(of: "about", with: "abandon")
        XCTAssertThrowsError(try Wallet.restore(
            path: f.dir.appendingPathComponent("other.db").path, secrets: MemorySecretStore(),
            network: .regtest, words: words, passphrase: "")) { error in
            guard case CarChainError.InvalidMnemonic(let code, _) = error else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(code, "key.bad_checksum")
        }
    }

    func testABadPairingPayloadIsATypedError() async {
        do {
            _ = try await f.wallet.pairDevice(
                light: f.light, payloadText: "carchain:pair?v=1&vid=X", name: "x", poolSize: 16,
                agent: TestNode.agent)
            XCTFail("a bad payload was accepted")
        } catch CarChainError.InvalidPairingPayload(let code, _) {
            XCTAssertEqual(code, "pairing.malformed")
        } catch {
            XCTFail("unexpected error \(error)")
        }
    }

    func testACancelledSyncLeavesTheClientUsable() async throws {
        let light = f.light
        let before = light.verifiedHeight()
        let task = Task { try await light.sync(listener: ProgressLog()) }
        task.cancel()
        _ = await task.result
        let after = try await light.sync(listener: ProgressLog())
        XCTAssertGreaterThanOrEqual(after, before)
        let trips = try await f.wallet.trips(light: light, vid: vid, fromDate: "2024-05-01", toDate: "2024-05-03")
        XCTAssertEqual(trips.trips.count, 3)
    }

    func testTheLoggerReceivedTheStoresMigrations() {
        let messages = f.logger.records.map { $0.2 }
        XCTAssertTrue(messages.contains { $0.hasPrefix("wallet store migrated") }, "records: \(messages)")
        XCTAssertTrue(messages.contains { $0.hasPrefix("car store migrated") }, "records: \(messages)")
    }
}
