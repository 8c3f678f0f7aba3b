// What the scenario tests share: a scratch folder, the owner's wallet restored from the
// "abandon … about" words, a light client anchored to a TestNode, a car paired to the
// wallet, days of trips delivered, a fixture set up once per class, and the one helper
// that captures the CarChainError a call raises (every call raises that one error).
// The README's "Use from Swift" example is these helpers' calls (keep them in sync).
import CarChain
import Foundation
import XCTest

/// Runs `body`, which must throw a `CarChainError`, and returns that error.
func carChainError(
    file: StaticString = #filePath, line: UInt = #line, _ body: () async throws -> Void
) async -> CarChainError? {
    do {
        try await body()
        XCTFail("no error was raised", file: file, line: line)
    } catch let error as CarChainError {
        return error
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
    return nil
}

/// A new empty folder `carchain-<label>-<uuid>` in the temporary directory.
func scratchDir(_ label: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("carchain-\(label)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// The owner's wallet restored from `abandonWords` (and `passphrase`) into `dir/file`,
/// its secrets in memory (the Keychain's stand-in).
func restoreWallet(in dir: URL, file: String = "wallet.db", passphrase: String = "") throws -> Wallet {
    try Wallet.restore(
        path: dir.appendingPathComponent(file).path, secrets: MemorySecretStore(),
        network: .regtest, words: abandonWords, passphrase: passphrase)
}

/// A light client of `node`, anchored to its validator key in the text form init prints.
func lightClient(of node: TestNode) throws -> LightClient {
    try LightClient(
        endpoints: [node.base], chainId: TestNode.chainId, network: .regtest,
        validatorPubkeyHex: node.validatorPubkey)
}

/// A light client of `node`, synced to its tip.
func syncedLightClient(of node: TestNode) async throws -> LightClient {
    let light = try lightClient(of: node)
    _ = try await light.sync(listener: ProgressLog())
    return light
}

/// Opens the car `vid` in `dir/car.db` and pairs it to `wallet`: the car shows its
/// payload, the owner pairs while the car answers; returns once the car is paired.
func pairCar(
    _ wallet: Wallet, light: LightClient, dir: URL, vid: String, name: String, poolSize: UInt32
) async throws -> CarDevice {
    let car = try CarDevice.open(path: dir.appendingPathComponent("car.db").path, secrets: MemorySecretStore(), vid: vid)
    let payload = try car.pairingPayload(ttlSecs: 600)
    async let owner = wallet.pairDevice(
        light: light, payloadText: payload, name: name, poolSize: poolSize, agent: TestNode.agent)
    while try await !car.completePairing(light: light) { try await Task.sleep(nanoseconds: 100_000_000) }
    _ = try await owner
    while try await !car.isPaired(light: light) { try await Task.sleep(nanoseconds: 100_000_000) }
    return car
}

/// Queues on `car` the trip of each of `days` (2024-05-<day>, session number = day).
func putTrips(_ car: CarDevice, days: [Int]) throws {
    for day in days {
        let trip = tripJson(day: day, session: day)
        _ = try car.putTrip(keyJson: trip.key, valueJson: trip.value, date: String(format: "2024-05-%02d", day))
    }
}

/// Queues the trips of `days` on `car` and delivers them to the network.
@discardableResult
func drive(_ car: CarDevice, days: [Int], light: LightClient) async throws -> FlushReport {
    try putTrips(car, days: days)
    return try await car.flush(light: light)
}

/// A fixture set up once for a test class: a node and a scratch folder, both gone on close.
protocol NodeFixture: AnyObject {
    var node: TestNode { get }
    var dir: URL { get }
}

extension NodeFixture {
    /// Stops the node and removes the folder.
    func close() {
        node.stop()
        try? FileManager.default.removeItem(at: dir)
    }
}

/// The fixture of one test class: made by its first test, shared by the others and
/// closed by the class's tearDown.
final class SharedFixture<F: NodeFixture>: @unchecked Sendable {
    private let make: () async throws -> F
    private var made: F?

    init(_ make: @escaping () async throws -> F) { self.make = make }

    /// Makes the fixture unless it is made (each test's setUp calls this).
    func prepare() async throws {
        if made == nil { made = try await make() }
    }

    /// The fixture prepare() made.
    var value: F { made! }

    /// Closes the fixture if it was made; the next prepare() makes a new one.
    func close() {
        made?.close()
        made = nil
    }
}

/// A request for the trip-gps records of 2024-05-01 through `toDate`, with location history.
func tripRequest(
    owner: String, toDate: String, purpose: String, price: UInt64 = 0, computation: String? = nil,
    expiresAtMs: UInt64? = nil
) -> DataRequestSpec {
    DataRequestSpec(
        ownerAddress: owner, formats: ["trip-gps"], fromDate: "2024-05-01", toDate: toDate,
        privileges: [.locationHistory], computation: computation, purpose: purpose, price: price,
        expiresAtMs: expiresAtMs)
}
