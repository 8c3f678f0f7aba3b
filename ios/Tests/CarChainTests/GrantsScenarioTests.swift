// The owner-side grant calls through the Swift bindings, against a real carchain-node:
// a service provider (funded at genesis) registers and asks the owner for data; the owner
// lists the pending request and checks what it asks, approves it narrowed, sees the grant,
// revokes it; a second request is rejected and its escrow refunded; a paid computation's
// escrow is declared, released by the provider and the owner's balance grows by the price
// less the owner's fees; bad ids and narrowings raise the typed CarChainError.
import CarChain
import Foundation
import XCTest

let grantsVid = "VIN-SWIFT-GRANTS"
/// What the provider offers for the UBI score.
let ubiPrice: UInt64 = 25_000
/// The owner's fees for a paid approval: Grant, DataResponse and EscrowDeliver at the
/// default base fee of 10 (the delivery record's put fee is reimbursed in phase 1).
let ownerApprovalFees: UInt64 = 30

/// Node, wallet with a paired car, provider registered: set up once for the grants tests.
final class GrantsFixture: NodeFixture, @unchecked Sendable {
    let node: TestNode
    let light: LightClient
    let ledger: GrantsLedger
    let wallet: Wallet
    let provider: ServiceProvider
    let ubi: String
    let dir: URL

    init(node: TestNode, light: LightClient, ledger: GrantsLedger, wallet: Wallet,
         provider: ServiceProvider, ubi: String, dir: URL) {
        self.node = node; self.light = light; self.ledger = ledger; self.wallet = wallet
        self.provider = provider; self.ubi = ubi; self.dir = dir
    }

    static func make() async throws -> GrantsFixture {
        let dir = try scratchDir("grants")
        let wallet = try restoreWallet(in: dir)
        let provider = try ServiceProvider.fromSeed(seed: Data(repeating: 0x41, count: 64), network: .regtest)
        let node = try TestNode.start(funds: [(wallet.ownerAddress(), 1_000_000), (provider.address(), 1_000_000)])
        let light = try await syncedLightClient(of: node)
        let ledger = try GrantsLedger(light: light, endpoints: [node.base])
        // The owner's car, paired, with three days of trips on the network.
        let car = try await pairCar(wallet, light: light, dir: dir, vid: grantsVid, name: "Granted car", poolSize: 8)
        let report = try await drive(car, days: [1, 2, 3], light: light)
        XCTAssertEqual(report.delivered, 3)
        // The provider registers its service and the UBI computation it offers.
        let ubi = try shippedProgramHash(program: .ubiScore)
        try await provider.register(
            ledger: ledger, name: "Acme Insurance", description: "pay-as-you-drive quotes", codeHashes: [ubi])
        return GrantsFixture(
            node: node, light: light, ledger: ledger, wallet: wallet, provider: provider, ubi: ubi, dir: dir)
    }

    func requestCopy(price: UInt64, expiresAtMs: UInt64?) async throws -> String {
        try await provider.request(ledger: ledger, spec: tripRequest(
            owner: wallet.ownerAddress(), toDate: "2024-05-03", purpose: "a used-car valuation", price: price,
            expiresAtMs: expiresAtMs))
    }

    func pending(_ requestId: String) async throws -> PendingRequest? {
        try await wallet.pendingRequests(ledger: ledger).first { $0.requestId == requestId }
    }
}

final class GrantsScenarioTests: XCTestCase {
    static let fixture = SharedFixture(GrantsFixture.make)
    var f: GrantsFixture { Self.fixture.value }

    override func setUp() async throws { try await Self.fixture.prepare() }

    override class func tearDown() {
        fixture.close()
    }

    func testACopyIsListedApprovedNarrowedGrantedAndRevoked() async throws {
        let expiresAt = UInt64(Date().timeIntervalSince1970 * 1000) + 86_400_000
        let requestId = try await f.requestCopy(price: 0, expiresAtMs: expiresAt)
        // The owner sees who asks, what, for which days, why, for how much, until when.
        let pending = try await f.pending(requestId)
        let asked = try XCTUnwrap(pending, "the request is pending")
        XCTAssertEqual(asked.provider.address, f.provider.address())
        XCTAssertEqual(asked.provider.name, "Acme Insurance")
        XCTAssertEqual(asked.provider.description, "pay-as-you-drive quotes")
        XCTAssertEqual(asked.provider.rsaFingerprint, f.provider.rsaFingerprint())
        XCTAssertEqual(asked.provider.codeHashes, [f.ubi])
        XCTAssertEqual(asked.formats, ["trip-gps"])
        XCTAssertEqual(asked.fromDate, "2024-05-01")
        XCTAssertEqual(asked.toDate, "2024-05-03")
        XCTAssertEqual(asked.privileges, [.locationHistory])
        XCTAssertNil(asked.computation, "a copy names no computation")
        XCTAssertEqual(asked.purpose, "a used-car valuation")
        XCTAssertEqual(asked.price, 0)
        XCTAssertEqual(asked.expiresAtMs, expiresAt)
        XCTAssertNil(asked.escrow, "a free request has no escrow")

        // Approved for one day only, the grant ending in a week.
        let grantEnds = expiresAt + 6 * 86_400_000
        let approval = try await f.wallet.approve(
            ledger: f.ledger, requestId: requestId, vid: grantsVid,
            narrowing: Narrowing(fromDate: "2024-05-02", toDate: "2024-05-02", expiresAtMs: grantEnds))
        XCTAssertEqual(approval.recordCount, 1)
        XCTAssertEqual(approval.fromDate, "2024-05-02")
        XCTAssertEqual(approval.toDate, "2024-05-02")
        XCTAssertEqual(approval.formats, ["trip-gps"])
        XCTAssertNil(approval.payment)
        let stillPending = try await f.pending(requestId)
        XCTAssertNil(stillPending, "an approved request is no longer pending")

        // The provider receives exactly day 2's trip, decrypted and verified.
        let outcome = try await f.provider.waitForResult(ledger: f.ledger, requestId: requestId, timeoutMs: 30_000)
        guard case .copyDelivered(let grantId, let records, let payment) = outcome else {
            return XCTFail("a copy was expected, got \(outcome)")
        }
        XCTAssertEqual(grantId, approval.grantId)
        XCTAssertNil(payment)
        XCTAssertEqual(records.count, 1)
        XCTAssertEqual(records.first?.valueJson, try parseValue(text: tripJson(day: 2, session: 2).value).json)

        // The grant is in the wallet and on the ledger, then revoked in both.
        let granted = try XCTUnwrap(try f.wallet.grants().first { $0.grantId == approval.grantId })
        XCTAssertEqual(granted.status, .active)
        XCTAssertEqual(granted.kind, .copy)
        XCTAssertEqual(granted.requestId, requestId)
        XCTAssertEqual(granted.providerName, "Acme Insurance")
        XCTAssertEqual(granted.recordCount, 1)
        let before = try await f.ledger.grant(grantId: approval.grantId)
        XCTAssertEqual(before?.status, .active)
        XCTAssertEqual(before?.expiresAtMs, grantEnds)
        try await f.wallet.revoke(ledger: f.ledger, grantId: approval.grantId)
        let active = try f.wallet.grants().filter { $0.status == .active }
        XCTAssertFalse(active.contains { $0.grantId == approval.grantId }, "revoked grant still active")
        XCTAssertEqual(try f.wallet.grants().first { $0.grantId == approval.grantId }?.status, .revoked)
        let onLedger = try await f.ledger.grant(grantId: approval.grantId)
        XCTAssertEqual(onLedger?.status, .revoked)
        XCTAssertEqual(onLedger?.grantor, f.wallet.ownerAddress())
        XCTAssertEqual(onLedger?.grantee, f.provider.address())
    }

    func testASecondRequestIsRejectedAndItsEscrowRefunded() async throws {
        let requestId = try await f.requestCopy(price: 5_000, expiresAtMs: nil)
        let pending = try await f.pending(requestId)
        let asked = try XCTUnwrap(pending)
        let escrow = try XCTUnwrap(asked.escrow)
        XCTAssertEqual(escrow.status, .open)
        XCTAssertEqual(escrow.amount, 5_000)
        XCTAssertEqual(escrow.buyer, f.provider.address())
        XCTAssertEqual(escrow.seller, f.wallet.ownerAddress())
        XCTAssertEqual(escrow.requestId, requestId)
        XCTAssertNil(asked.expiresAtMs)

        // Asking for more than requested, or approximating a copy, is refused; the
        // request stays open.
        let (f, ledger) = (f, f.ledger)
        let wider = await carChainError {
            _ = try await f.wallet.approve(
                ledger: ledger, requestId: requestId, vid: grantsVid,
                narrowing: Narrowing(fromDate: "2024-04-30", toDate: "2024-05-02"))
        }
        guard case .InvalidNarrowing(let widerCode, _)? = wider else { return XCTFail("got \(String(describing: wider))") }
        XCTAssertEqual(widerCode, "grants.invalid_narrowing")
        let approximated = await carChainError {
            _ = try await f.wallet.approve(
                ledger: ledger, requestId: requestId, vid: grantsVid, narrowing: Narrowing(approximate: true))
        }
        guard case .InvalidNarrowing? = approximated else { return XCTFail("got \(String(describing: approximated))") }
        let open = try await f.pending(requestId)
        XCTAssertNotNil(open)

        try await f.wallet.reject(ledger: ledger, requestId: requestId)
        let gone = try await f.pending(requestId)
        XCTAssertNil(gone, "a rejected request is no longer pending")
        let outcome = try await f.provider.waitForResult(ledger: ledger, requestId: requestId, timeoutMs: 30_000)
        XCTAssertEqual(outcome, .rejected)
        let refunded = try await ledger.escrow(escrowId: escrow.escrowId)
        XCTAssertEqual(refunded?.status, .refunded)
        let again = await carChainError {
            _ = try await f.wallet.approve(ledger: ledger, requestId: requestId, vid: grantsVid, narrowing: Narrowing())
        }
        guard case .RequestClosed(let closedCode, _)? = again else { return XCTFail("got \(String(describing: again))") }
        XCTAssertEqual(closedCode, "grants.request_closed")
    }

    func testAPaidComputationPaysTheOwnerThroughItsEscrow() async throws {
        let requestId = try await f.provider.request(ledger: f.ledger, spec: tripRequest(
            owner: f.wallet.ownerAddress(), toDate: "2024-05-03", purpose: "a usage-based insurance quote",
            price: ubiPrice, computation: f.ubi))
        let pending = try await f.pending(requestId)
        let asked = try XCTUnwrap(pending)
        XCTAssertEqual(asked.computation, f.ubi)
        XCTAssertEqual(asked.price, ubiPrice)
        let escrow = try XCTUnwrap(asked.escrow)
        XCTAssertEqual(escrow.status, .open)
        XCTAssertEqual(escrow.amount, ubiPrice)

        // Approved with a privacy zone around where day 1's trip starts.
        let day1 = tripJson(day: 1, session: 1)
        let home = try decodeTrip(keyJson: day1.key, valueJson: day1.value).summary.bbox
        let zone = PrivacyZone(lat: home.minLat, lng: home.minLng, radiusM: 300)
        let before = try await f.wallet.balance(ledger: f.ledger)
        let approval = try await f.wallet.approve(
            ledger: f.ledger, requestId: requestId, vid: grantsVid, narrowing: Narrowing(privacyZones: [zone]))
        XCTAssertEqual(approval.recordCount, 3)
        XCTAssertEqual(approval.privacyZoneCount, 1)
        let declared = try XCTUnwrap(approval.payment)
        XCTAssertEqual(declared.escrowId, escrow.escrowId)
        XCTAssertEqual(declared.amount, ubiPrice)
        let delivered = try await f.ledger.escrow(escrowId: declared.escrowId)
        XCTAssertEqual(delivered?.status, .delivered)
        XCTAssertEqual(delivered?.dHashRoot, declared.dHashRoot)

        // The provider receives only the signed score and accepts: the escrow pays the owner.
        let outcome = try await f.provider.waitForResult(ledger: f.ledger, requestId: requestId, timeoutMs: 30_000)
        guard case .resultDelivered(_, let programHash, let output, let inputCount, let payment) = outcome else {
            return XCTFail("a result was expected, got \(outcome)")
        }
        XCTAssertEqual(programHash, f.ubi)
        XCTAssertEqual(inputCount, 3)
        XCTAssertEqual(payment?.status, .released)
        let settled = try await f.ledger.escrow(escrowId: declared.escrowId)
        XCTAssertEqual(settled?.status, .released)
        guard case .ubiScore(let score, let distanceM, _, _, _, _)? = output else {
            return XCTFail("a UBI score was expected, got \(String(describing: output))")
        }
        XCTAssertLessThanOrEqual(score, 1000)
        // The zone cut the start of day 1's trip: less distance than the three whole trips.
        let whole = try await f.wallet.trips(light: f.light, vid: grantsVid, fromDate: "2024-05-01", toDate: "2024-05-03")
            .trips.map { $0.distanceM }.reduce(0, +)
        XCTAssertGreaterThan(distanceM, 0)
        XCTAssertLessThan(Double(distanceM), whole - 200, "\(distanceM) of \(whole) m")
        let after = try await f.wallet.balance(ledger: f.ledger)
        XCTAssertEqual(after, before + ubiPrice - ownerApprovalFees)
        XCTAssertEqual(try f.wallet.grants().first { $0.grantId == approval.grantId }?.kind, .compute)
    }

    func testBadIdsAreTypedErrors() async throws {
        let (f, ledger) = (f, f.ledger)
        let notHex = await carChainError {
            _ = try await f.wallet.approve(ledger: ledger, requestId: "not-a-request-id", vid: grantsVid, narrowing: Narrowing())
        }
        guard case .InvalidInput(let notHexCode, _)? = notHex else { return XCTFail("got \(String(describing: notHex))") }
        XCTAssertEqual(notHexCode, "grants.invalid_id")
        let unknown = await carChainError {
            _ = try await f.wallet.approve(
                ledger: ledger, requestId: String(repeating: "ab", count: 32), vid: grantsVid, narrowing: Narrowing())
        }
        guard case .NotFound(let unknownCode, _)? = unknown else { return XCTFail("got \(String(describing: unknown))") }
        XCTAssertEqual(unknownCode, "grants.unknown_request")
        let short = await carChainError { try await f.wallet.reject(ledger: ledger, requestId: "12") }
        XCTAssertEqual(short, .InvalidInput(code: "grants.invalid_id", detail: "the request id `12` is not 64 hex digits"))
        let noGrant = await carChainError {
            try await f.wallet.revoke(ledger: ledger, grantId: String(repeating: "cd", count: 32))
        }
        guard case .NotFound(let noGrantCode, _)? = noGrant else { return XCTFail("got \(String(describing: noGrant))") }
        XCTAssertEqual(noGrantCode, "grants.unknown_grant")
        let badEscrow = await carChainError { _ = try await ledger.escrow(escrowId: "zz") }
        guard case .InvalidInput? = badEscrow else { return XCTFail("got \(String(describing: badEscrow))") }
        let none = try await ledger.escrow(escrowId: String(repeating: "ef", count: 32))
        XCTAssertNil(none)
        let badSeed = await carChainError { _ = try ServiceProvider.fromSeed(seed: Data(count: 16), network: .regtest) }
        guard case .InvalidInput(let seedCode, _)? = badSeed else { return XCTFail("got \(String(describing: badSeed))") }
        XCTAssertEqual(seedCode, "grants.invalid_seed")
    }
}
