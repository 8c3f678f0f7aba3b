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
        let dir = try scratchDir("standing")
        defer { try? FileManager.default.removeItem(at: dir) }
        let wallet = try restoreWallet(in: dir)
        let family = try ServiceProvider.fromSeed(seed: Data(repeating: 0x44, count: 64), network: .regtest)
        let node = try TestNode.start(funds: [(wallet.ownerAddress(), 1_000_000), (family.address(), 1_000_000)])
        defer { node.stop() }
        let light = try await syncedLightClient(of: node)
        let ledger = try GrantsLedger(light: light, endpoints: [node.base])
        let car = try await pairCar(wallet, light: light, dir: dir, vid: standingVid, name: "Family car", poolSize: 8)
        try await family.register(ledger: ledger, name: "Family", description: "where is the car", codeHashes: [])

        try await drive(car, days: [1], light: light)
        let requestId = try await family.request(ledger: ledger, spec: tripRequest(
            owner: wallet.ownerAddress(), toDate: "2024-05-10", purpose: "where is the car"))
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
        try await drive(car, days: [2, 3], light: light)
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
        try await drive(car, days: [4], light: light)
        let afterRevoke = try await wallet.syncStandingGrants(ledger: ledger, today: "2024-05-06")
        XCTAssertEqual(afterRevoke.first?.deliveredPeriods, [])
        XCTAssertEqual(afterRevoke.first?.state, "revoked")
        let later = try await wallet.syncStandingGrants(ledger: ledger, today: "2024-05-07")
        XCTAssertTrue(later.isEmpty)
        XCTAssertEqual(try wallet.standingGrants().first?.deliveredPeriods, [0, 1, 2])

        let bad = await carChainError {
            _ = try await wallet.syncStandingGrants(ledger: ledger, today: "2024-5-7x")
        }
        guard case .InvalidInput(let code, _)? = bad else { return XCTFail("got \(String(describing: bad))") }
        XCTAssertEqual(code, "input.invalid_date")
    }
}
