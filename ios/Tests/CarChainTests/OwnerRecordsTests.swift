// The owner's own records through the Swift bindings, against a real carchain-node: the
// seed's VIN record put from the wallet, updated (both versions readable), a custom
// service-history record listed, and bad input as typed errors with owner_record.* codes.
import CarChain
import Foundation
import XCTest

/// The seed's putWalKV record.
let seedVinKey = "{\"VEHICLE_DATA\":1}"
let seedVinValue = "{\"VIN\":\"LBVNU79049SB81546\"}"
let ownerRecordsVid = "VIN-SWIFT-OWNER"

/// A node and a wallet with one paired car (set up once for the class).
final class OwnerRecordsFixture: NodeFixture, @unchecked Sendable {
    let node: TestNode
    let light: LightClient
    let wallet: Wallet
    let dir: URL

    init(node: TestNode, light: LightClient, wallet: Wallet, dir: URL) {
        self.node = node; self.light = light; self.wallet = wallet; self.dir = dir
    }

    static func make() async throws -> OwnerRecordsFixture {
        let dir = try scratchDir("owner-records")
        let wallet = try restoreWallet(in: dir)
        let node = try TestNode.start(fund: wallet.ownerAddress(), amount: 1_000_000)
        let light = try lightClient(of: node)
        _ = try await pairCar(wallet, light: light, dir: dir, vid: ownerRecordsVid, name: "My car", poolSize: 8)
        return OwnerRecordsFixture(node: node, light: light, wallet: wallet, dir: dir)
    }
}

final class OwnerRecordsTests: XCTestCase {
    static let fixture = SharedFixture(OwnerRecordsFixture.make)
    var f: OwnerRecordsFixture { Self.fixture.value }

    override func setUp() async throws { try await Self.fixture.prepare() }

    override class func tearDown() {
        fixture.close()
    }

    func testPutUpdateGetAndList() async throws {
        let day = "2024-05-01"
        let put = try await f.wallet.putOwnerRecord(
            light: f.light, vid: ownerRecordsVid, date: day, format: "VIN_CODE", keyFields: nil,
            keyJson: seedVinKey, valueJson: seedVinValue)
        XCTAssertEqual(put.version, 1)
        let corrected = "{\"VIN\":\"LBVNU79049SB81546\",\"MAKE\":\"SAIC\"}"
        let update = try await f.wallet.updateOwnerRecord(
            light: f.light, vid: ownerRecordsVid, date: day, format: "VIN_CODE", keyFields: nil,
            keyJson: seedVinKey, valueJson: corrected)
        XCTAssertEqual(update.version, 2)
        let latest = try await f.wallet.getOwnerRecord(
            light: f.light, vid: ownerRecordsVid, date: day, format: "VIN_CODE", keyFields: nil,
            keyJson: seedVinKey, columns: ["MAKE"])
        XCTAssertEqual(latest?.valueJson, "{\"MAKE\":\"SAIC\"}")
        XCTAssertEqual(latest?.date, day)
        let versions = try await f.wallet.ownerRecordVersions(
            light: f.light, vid: ownerRecordsVid, date: day, format: "VIN_CODE", keyFields: nil,
            keyJson: seedVinKey, columns: [])
        XCTAssertEqual(versions.map { $0.version }, [1, 2])
        XCTAssertEqual(versions.first?.valueJson, seedVinValue)

        let fields = ["DATE", "SHOP"]
        _ = try await f.wallet.putOwnerRecord(
            light: f.light, vid: ownerRecordsVid, date: "2024-05-02", format: "service-history",
            keyFields: fields, keyJson: "{\"DATE\":20240502,\"SHOP\":\"Pudong Motors\"}",
            valueJson: "{\"work\":\"brakes\",\"km\":42000}")
        let list = try await f.wallet.listOwnerRecords(
            light: f.light, vid: ownerRecordsVid, fromDate: "2024-05-01", toDate: "2024-05-07",
            format: "service-history", keyFields: fields, columns: [])
        XCTAssertEqual(list.records.count, 1)
        XCTAssertEqual(list.versions, [1])
        XCTAssertEqual(list.records.first?.valueJson, "{\"km\":42000,\"work\":\"brakes\"}")
    }

    func testBadInputIsTyped() async throws {
        let cases: [(String, String, [String]?, String)] = [
            ("owner_record.unknown_format", "insurance", nil, "{}"),
            ("owner_record.invalid_format", "docs", ["A", "A"], "{}"),
            ("owner_record.invalid_key", "VIN_CODE", nil, "{\"VIN\":1}"),
        ]
        for (expected, format, fields, key) in cases {
            do {
                _ = try await f.wallet.putOwnerRecord(
                    light: f.light, vid: ownerRecordsVid, date: "2024-05-03", format: format,
                    keyFields: fields, keyJson: key, valueJson: "{}")
                XCTFail("\(expected): accepted")
            } catch CarChainError.InvalidInput(let code, _) {
                XCTAssertEqual(code, expected)
            }
        }
        do {
            _ = try await f.wallet.updateOwnerRecord(
                light: f.light, vid: ownerRecordsVid, date: "2024-05-04", format: "VIN_CODE",
                keyFields: nil, keyJson: seedVinKey, valueJson: "{}")
            XCTFail("an update of no record was accepted")
        } catch CarChainError.InvalidInput(let code, _) {
            XCTAssertEqual(code, "owner_record.not_owned")
        }
        do {
            _ = try await f.wallet.putOwnerRecord(
                light: f.light, vid: "NO-SUCH-CAR", date: "2024-05-03", format: "VIN_CODE",
                keyFields: nil, keyJson: seedVinKey, valueJson: "{}")
            XCTFail("a put for no car was accepted")
        } catch CarChainError.NotFound(let code, _) {
            XCTAssertEqual(code, "wallet.unknown_device")
        }
    }
}
