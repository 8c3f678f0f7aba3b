// The owner's wallet paying with its own account on a SHARED carchain-node, through the
// Swift bindings: a plain light client's inbox read is refused with the node's payment
// code, while the client from wallet.payingReads reads, paying each address read with one
// unlinkable read token: the owner's balance drops by exactly one batch of 100 tokens and
// its fee, the tokens held (in the wallet's store) go down one per read and survive in a
// new client, and buyReadTokens buys another batch; wallet.transfer moves tokens, and
// refused payments raise the typed CarChainError with payment.* codes.
import CarChain
import Foundation
import XCTest

/// The default fee schedule's base fee, what a transfer pays.
let transferFee: UInt64 = 10
/// Read tokens one purchase of the owner buys (one address read each).
let ownerReadTokenBatch: UInt64 = 100
/// One purchase of the owner: 100 tokens at 1 each, plus its transfer's fee.
let ownerReadTokensPrice: UInt64 = ownerReadTokenBatch + transferFee

final class PaidReadsTests: XCTestCase {
    func testTheWalletPaysItsReadsAndTransfersOnASharedNode() async throws {
        let dir = try scratchDir("paid")
        defer { try? FileManager.default.removeItem(at: dir) }
        let wallet = try restoreWallet(in: dir)
        let owner = wallet.ownerAddress()
        let funded: UInt64 = 1_000_000
        let node = try TestNode.start(fund: owner, amount: funded, mode: TestNode.sharedMode)
        defer { node.stop() }
        let light = try await syncedLightClient(of: node)

        // A plain client's read is refused with the node's payment code; nothing is paid.
        let plainLedger = try GrantsLedger(light: light, endpoints: [node.base])
        let refused = await carChainError { _ = try await wallet.pendingRequests(ledger: plainLedger) }
        guard case .Refused(let refusedCode, let refusedDetail)? = refused else {
            return XCTFail("got \(String(describing: refused))")
        }
        XCTAssertEqual(refusedCode, "light.node_refused")
        XCTAssertTrue(refusedDetail.contains("payment_required"), refusedDetail)
        let before = try await light.balance(address: owner)
        XCTAssertEqual(before, funded)

        // The wallet's paying client reads: one batch of tokens bought from the owner's
        // account, one token spent per address read; a second read spends another token
        // of the same batch. The client lives in this scope only (its tokens in hand go
        // back to the store when it is released).
        let heldSecond = try await readTwiceOnAFirstClient(
            wallet: wallet, light: light, node: node, owner: owner, funded: funded)
        // The unspent tokens live in the wallet's store: a new paying client holds them all.
        let paying = wallet.payingReads(light: light)
        let heldAgain = try await paying.readTokensHeld()
        XCTAssertEqual(heldAgain, heldSecond)
        // Buying now: one more batch, one more payment.
        let bought = try await paying.buyReadTokens()
        XCTAssertEqual(bought, heldSecond + ownerReadTokenBatch)
        let afterBuy = try await light.balance(address: owner)
        XCTAssertEqual(afterBuy, funded - 2 * ownerReadTokensPrice)
        // A client without a payer buys nothing.
        do {
            _ = try await light.buyReadTokens()
            XCTFail("a client without a payer bought tokens")
        } catch let error as CarChainError {
            guard case .InvalidInput(let code, _) = error else { return XCTFail("got \(error)") }
            XCTAssertEqual(code, "light.invalid_input")
        }

        // A transfer signed inside the wallet, the fee added.
        let friend = try restoreKeys(words: abandonWords, passphrase: "TREZOR", network: .regtest).ownerAddress()
        let receipt = try await wallet.transfer(light: paying, to: friend, amount: 500)
        XCTAssertEqual(receipt.txId.count, 64)
        XCTAssertNotNil(receipt.height)
        let friendBalance = try await light.balance(address: friend)
        XCTAssertEqual(friendBalance, 500)
        let left = funded - 2 * ownerReadTokensPrice - 500 - transferFee
        let afterTransfer = try await light.balance(address: owner)
        XCTAssertEqual(afterTransfer, left)

        // Refused payments are typed and cost nothing.
        let zero = await carChainError { _ = try await wallet.transfer(light: paying, to: friend, amount: 0) }
        guard case .InvalidInput(let zeroCode, _)? = zero else { return XCTFail("got \(String(describing: zero))") }
        XCTAssertEqual(zeroCode, "payment.zero_amount")
        let overdraft = await carChainError { _ = try await wallet.transfer(light: paying, to: friend, amount: left) }
        guard case .InvalidInput(let overdraftCode, _)? = overdraft else {
            return XCTFail("got \(String(describing: overdraft))")
        }
        XCTAssertEqual(overdraftCode, "payment.insufficient_funds")
        let bad = await carChainError { _ = try await wallet.transfer(light: paying, to: "not-an-address", amount: 5) }
        guard case .InvalidInput(let badCode, _)? = bad else { return XCTFail("got \(String(describing: bad))") }
        XCTAssertEqual(badCode, "payment.invalid_recipient")
        let unchanged = try await light.balance(address: owner)
        XCTAssertEqual(unchanged, left)
    }

    /// Two paid inbox reads on a paying client released on return; the tokens then held.
    private func readTwiceOnAFirstClient(
        wallet: Wallet, light: LightClient, node: TestNode, owner: String, funded: UInt64
    ) async throws -> UInt64 {
        let paying = wallet.payingReads(light: light)
        let heldBefore = try await paying.readTokensHeld()
        XCTAssertEqual(heldBefore, 0)
        let paidLedger = try GrantsLedger(light: paying, endpoints: [node.base])
        let first = try await wallet.pendingRequests(ledger: paidLedger)
        XCTAssertTrue(first.isEmpty)
        let afterBatch = try await light.balance(address: owner)
        XCTAssertEqual(afterBatch, funded - ownerReadTokensPrice)
        let heldFirst = try await paying.readTokensHeld()
        XCTAssertTrue(heldFirst >= 1 && heldFirst < ownerReadTokenBatch, "held \(heldFirst)")
        let second = try await wallet.pendingRequests(ledger: paidLedger)
        XCTAssertTrue(second.isEmpty)
        let afterSecond = try await light.balance(address: owner)
        XCTAssertEqual(afterSecond, funded - ownerReadTokensPrice)
        let heldSecond = try await paying.readTokensHeld()
        XCTAssertLessThan(heldSecond, heldFirst)
        return heldSecond
    }

    func testACarPairsOnASharedNodeReadingWithFundsTheOwnerSent() async throws {
        let dir = try scratchDir("shared-car")
        defer { try? FileManager.default.removeItem(at: dir) }
        let wallet = try restoreWallet(in: dir)
        let node = try TestNode.start(fund: wallet.ownerAddress(), amount: 1_000_000, mode: TestNode.sharedMode)
        defer { node.stop() }
        let light = try await syncedLightClient(of: node)
        let paying = wallet.payingReads(light: light)
        let car = try CarDevice.open(
            path: dir.appendingPathComponent("car.db").path, secrets: MemorySecretStore(), vid: "VIN-SWIFT-SHARED")
        let account = car.accountAddress(network: .regtest)
        XCTAssertTrue(account.hasPrefix("bcrt1q"), account)
        // The owner sends the car what its pairing read costs; a second call sends nothing.
        let sent = try await wallet.fundCarReads(light: paying, carAccount: account)
        XCTAssertGreaterThan(sent, 0)
        let funded = try await light.balance(address: account)
        XCTAssertEqual(funded, sent)
        let again = try await wallet.fundCarReads(light: paying, carAccount: account)
        XCTAssertEqual(again, 0)
        // The car reads the owner's offer paying from its own account; the pairing completes.
        let carLight = car.payingReads(light: light)
        let payload = try car.pairingPayload(ttlSecs: 600)
        async let owner = wallet.pairDevice(
            light: paying, payloadText: payload, name: "Shared car", poolSize: 8, agent: TestNode.agent)
        while try await !car.completePairing(light: carLight) { try await Task.sleep(nanoseconds: 100_000_000) }
        _ = try await owner
        let paired = try await car.isPaired(light: carLight)
        XCTAssertTrue(paired)
        let left = try await light.balance(address: account)
        XCTAssertLessThan(left, funded, "the car bought its read tokens")
        XCTAssertEqual(try wallet.devices().map { $0.vid }, ["VIN-SWIFT-SHARED"])

        // Fee stamps: one payment of the owner buys them, the car keeps them and pays its
        // puts' fees with them (no pool address is ever funded).
        let before = try await light.balance(address: wallet.ownerAddress())
        let stamps = try await wallet.buyFeeStamps(light: paying, count: 2)
        XCTAssertEqual(stamps.count, 2)
        let after = try await light.balance(address: wallet.ownerAddress())
        XCTAssertEqual(after, before - 2 * 10_000 - transferFee)
        try car.addFeeStamps(stamps: stamps)
        try car.addFeeStamps(stamps: stamps)
        XCTAssertEqual(try car.feeStampsHeld(), 2)
        XCTAssertThrowsError(try car.addFeeStamps(stamps: [Data([1, 2])])) { error in
            guard case CarChainError.InvalidInput(let code, _) = error else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertEqual(code, "device.fee_stamp_malformed")
        }
    }
}
