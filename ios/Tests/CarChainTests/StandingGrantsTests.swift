// Standing grants through the Swift bindings, against a real carchain-node: a family
// member's request for the trips of ten days is approved once (as of day 2, delivering
// day 1); the background sync the app schedules (a BGTask calls syncStandingGrants)
// delivers each new complete day without the owner approving again and nothing twice;
// after the owner revokes the grant nothing more is delivered; a bad day raises the
// typed CarChainError.
import CarChain
import Foundation
import XCTest

let standingVid = "VIN-SWIFT-STANDING"

final class StandingGrantsTests: XCTestCase {
    func testAStandingTripGrantDeliversEachNewDayUntilRevoked() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("carchain-standing-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let wallet = try Wallet.restore(
            path: dir.appendingPathComponent("wallet.db").path, secrets: MemorySecretStore(),
            network: .regtest, words: abandonWords, passphrase: "")
        let family = try ServiceProvider.fromSeed(seed: Data(repeating: 0x44, count: 64), network: .regtest)
        let node = try TestNode.start(funds: [(wallet.ownerAddress(), 1_000_000), (family.address(), 1_000_000)])
        defer { node.stop() }
        let light = try LightClient(
            endpoints: [node.base], chainId: TestNode.chainId, network: .regtest,
            validatorPubkeyHex: node.validatorPubkey)
        let ledger = try GrantsLedger(light: light, endpoints: [node.base])
        _ = try await light.sync(listener: ProgressLog())
        let car = try CarDevice.open(
            path: dir.appendingPathComponent("car.db").path, secrets: MemorySecretStore(), vid: standingVid)
        let payload = try car.pairingPayload(ttlSecs: 600)
        async let owner = wallet.pairDevice(
            light: light, payloadText: payload, name: "Family car", poolSize: 8, agent: TestNode.agent)
        while try await !car.completePairing(light: light) { try await Task.sleep(nanoseconds: 100_000_000) }
        _ = try await owner
        while try await !car.isPaired(light: light) { try await Task.sleep(nanoseconds: 100_000_000) }
        try await family.register(ledger: ledger, name: "Family", description: "where is the car", codeHashes: [])
        func drive(_ days: [Int]) async throws {
            for day in days {
                let trip = tripJson(day: day, session: day)
                _ = try car.putTrip(keyJson: trip.key, valueJson: trip.value, date: String(format: "2024-05-%02d", day))
            }
            _ = try await car.flush(light: light)
        }

        try await drive([1])
        let requestId = try await family.request(ledger: ledger, spec: DataRequestSpec(
            ownerAddress: wallet.ownerAddress(), formats: ["trip-gps"], fromDate: "2024-05-01",
            toDate: "2024-05-10", privileges: [.locationHistory], computation: nil,
            purpose: "where is the car", price: 0, expiresAtMs: nil))
        // Approved once on day 2: day 1 is delivered now, the rest as days complete.
        let approval = try await wallet.approveAsOf(
            ledger: ledger, requestId: requestId, vid: standingVid, narrowing: Narrowing(), today: "2024-05-02")
        XCTAssertEqual(approval.recordCount, 1)
        let standing = try XCTUnwrap(try wallet.standingGrants().first)
        XCTAssertEqual(standing.grantId, approval.grantId)
        XCTAssertEqual(standing.periodDays, 1)
        XCTAssertEqual(standing.nextPeriod, 1)
        XCTAssertEqual(standing.state, "active")

        // Days 2 and 3 are driven; the background sync on day 4 delivers each of them.
        try await drive([2, 3])
        let synced = try await wallet.syncStandingGrants(ledger: ledger, today: "2024-05-04")
        XCTAssertEqual(synced.count, 1)
        XCTAssertEqual(synced[0].deliveredPeriods, [1, 2])
        XCTAssertEqual(synced[0].recordCount, 2)
        XCTAssertEqual(synced[0].nextPeriod, 3)
        XCTAssertNil(synced[0].errorCode)
        // The same day again delivers nothing twice.
        let again = try await wallet.syncStandingGrants(ledger: ledger, today: "2024-05-04")
        XCTAssertEqual(again.first?.deliveredPeriods, [])

        // Revoked: the next sync stops the grant and delivers nothing more.
        try await wallet.revoke(ledger: ledger, grantId: approval.grantId)
        try await drive([4])
        let afterRevoke = try await wallet.syncStandingGrants(ledger: ledger, today: "2024-05-06")
        XCTAssertEqual(afterRevoke.first?.deliveredPeriods, [])
        XCTAssertEqual(afterRevoke.first?.state, "revoked")
        let later = try await wallet.syncStandingGrants(ledger: ledger, today: "2024-05-07")
        XCTAssertTrue(later.isEmpty)
        XCTAssertEqual(try wallet.standingGrants().first?.deliveredPeriods, [0, 1, 2])

        let bad = await grantsError {
            _ = try await wallet.syncStandingGrants(ledger: ledger, today: "2024-5-7x")
        }
        guard case .InvalidInput(let code, _)? = bad else { return XCTFail("got \(String(describing: bad))") }
        XCTAssertEqual(code, "input.invalid_date")
    }
}
