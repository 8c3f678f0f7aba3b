// The light client's trust anchor through the Swift bindings, against a real carchain-node:
// a client anchored to the node's genesis validator set (typed, or in its text form) syncs
// and reads a proven balance; the checkpoint it reaches (a verified CometBFT height and
// header hash) anchors a second client, which syncs from there. A client anchored to
// another validator, or to a checkpoint whose hash is not the chain's, verifies nothing:
// it drops the node (never the last one it has), says why, and raises a typed error.
import CarChain
import Foundation
import XCTest

/// The voting power `carchain-node init` gives its one validator.
let embeddedValidatorPower: UInt64 = 10
/// A valid ed25519 key that is not the node's validator (RFC 8032's first test vector).
let foreignValidator = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"

/// The stable code of a light-client error.
func lightCode(_ error: CarChainError) -> String {
    switch error {
    case .Refused(let code, _), .Unavailable(let code, _), .Verification(let code, _),
        .InvalidInput(let code, _), .Internal(let code, _):
        return code
    default:
        return "not a light-client error: \(error)"
    }
}

final class LightAnchorTests: XCTestCase {
    /// `client` of [node, spare] verifies nothing: `node` is dropped, and `spare`, the last
    /// node left, is kept (a client never drops its last node) but its answers refused too.
    private func assertRefusedAndDropped(
        _ client: LightClient, owner: String, node: TestNode,
        file: StaticString = #filePath, line: UInt = #line
    ) async {
        let code = await carChainError(file: file, line: line) {
            _ = try await client.balance(address: owner)
        }.map(lightCode)
        XCTAssertTrue(
            code == "light.forged_commit" || code == "light.all_nodes_failed",
            String(describing: code), file: file, line: line)
        let dropped = client.droppedEndpoints()
        XCTAssertEqual(dropped.map(\.endpoint), [node.base], file: file, line: line)
        XCTAssertFalse(dropped.first?.reason.isEmpty ?? true, file: file, line: line)
        XCTAssertEqual(client.verifiedHeight(), 0, file: file, line: line)
    }

    func testTheGenesisSetOrACheckpointAnchorsAClientAndAForeignAnchorVerifiesNothing() async throws {
        let dir = try scratchDir("anchor")
        defer { try? FileManager.default.removeItem(at: dir) }
        let wallet = try restoreWallet(in: dir)
        let owner = wallet.ownerAddress()
        let funds: UInt64 = 5_000
        let node = try TestNode.start(fund: owner, amount: funds)
        defer { node.stop() }
        let spare = try TestNode.start(fund: owner, amount: funds)
        defer { spare.stop() }
        let both = [node.base, spare.base]

        let genesisSet = [AnchorValidator(keyHex: node.validatorPubkey, power: embeddedValidatorPower)]
        let genesis = try LightClient.withValidators(
            endpoints: [node.base], chainId: TestNode.chainId, network: .regtest, validators: genesisSet)
        // The text form leaves out the default power, as `carchain-node init` prints it.
        XCTAssertEqual(genesis.trustAnchor(), node.validatorPubkey)
        XCTAssertEqual(genesis.anchorValidators(), genesisSet)
        XCTAssertNil(try genesis.checkpoint(), "no checkpoint before the first sync")
        _ = try await genesis.sync(listener: ProgressLog())
        let balance = try await genesis.balance(address: owner)
        XCTAssertEqual(balance, funds)
        XCTAssertTrue(genesis.droppedEndpoints().isEmpty)
        // The text form `carchain-node init` prints is the same anchor.
        let text = try lightClient(of: node)
        let textBalance = try await text.balance(address: owner)
        XCTAssertEqual(textBalance, funds)

        // The checkpoint the first client verified anchors a second one.
        let checkpoint = try XCTUnwrap(try genesis.checkpoint())
        let parts = checkpoint.split(separator: ":").map(String.init)
        XCTAssertEqual(parts.count, 2)
        let height = try XCTUnwrap(UInt64(parts[0]))
        let hash = parts[1]
        XCTAssertEqual(hash.count, 64)
        let fromCheckpoint = try LightClient.withTrustedHeight(
            endpoints: [node.base], chainId: TestNode.chainId, network: .regtest,
            height: height, headerHashHex: hash)
        XCTAssertEqual(fromCheckpoint.trustAnchor(), checkpoint)
        XCTAssertTrue(fromCheckpoint.anchorValidators().isEmpty)
        let checkpointBalance = try await fromCheckpoint.balance(address: owner)
        XCTAssertEqual(checkpointBalance, funds)
        XCTAssertGreaterThanOrEqual(fromCheckpoint.verifiedHeight() + 1, height)

        // A foreign validator set, or a checkpoint with another hash, certifies nothing.
        await assertRefusedAndDropped(
            try LightClient.withValidators(
                endpoints: both, chainId: TestNode.chainId, network: .regtest,
                validators: [AnchorValidator(keyHex: foreignValidator, power: embeddedValidatorPower)]),
            owner: owner, node: node)
        let otherHash = String(repeating: hash.hasPrefix("ab") ? "cd" : "ab", count: 32)
        await assertRefusedAndDropped(
            try LightClient.withTrustedHeight(
                endpoints: both, chainId: TestNode.chainId, network: .regtest,
                height: height, headerHashHex: otherHash),
            owner: owner, node: node)
        // Bad anchors are refused before any request.
        let badKey = await carChainError {
            _ = try LightClient.withValidators(
                endpoints: [node.base], chainId: TestNode.chainId, network: .regtest,
                validators: [AnchorValidator(keyHex: "02" + String(repeating: "11", count: 32), power: 10)])
        }
        XCTAssertEqual(badKey.map(lightCode), "light.invalid_input")
        let zeroHeight = await carChainError {
            _ = try LightClient.withTrustedHeight(
                endpoints: [node.base], chainId: TestNode.chainId, network: .regtest,
                height: 0, headerHashHex: hash)
        }
        XCTAssertEqual(zeroHeight.map(lightCode), "light.invalid_input")
    }
}
