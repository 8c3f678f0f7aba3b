// The owner's wallet paying with its own account on a SHARED carchain-node, through the
// Kotlin bindings: a plain light client's inbox read is refused with the node's payment
// code, while the client from wallet.payingReads reads, paying each address read with one
// unlinkable read token: the owner's balance drops by exactly one batch of 100 tokens and
// its fee, the tokens held (in the wallet's store) go down one per read and survive in a
// new client, and buyReadTokens buys another batch; wallet.transfer moves tokens, and
// refused payments raise the typed CarChainException with payment.* codes. The owner buys
// fee stamps in one payment and hands them to its car.
package org.carchain.sdk

import java.nio.file.Files
import kotlinx.coroutines.async
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** The default fee schedule's base fee, what a transfer pays. */
const val TRANSFER_FEE = 10uL
/** Read tokens one purchase of the owner buys (one address read each). */
const val OWNER_READ_TOKEN_BATCH = 100uL
/** One purchase of the owner: 100 tokens at 1 each, plus its transfer fee of 10. */
const val OWNER_READ_TOKENS_PRICE = 110uL
const val PAID_READS_FUNDS = 1_000_000L
/** A fee stamp's price on a chain `carchain-node init` made with its defaults. */
const val STAMP_PRICE = 10_000uL

class PaidReadsTest {
    @Test
    fun theWalletPaysItsReadsAndTransfersOnASharedNode() = runBlocking {
        val dir = Files.createTempDirectory("carchain-paid-reads").toFile()
        val wallet = restoreWallet(dir)
        val owner = wallet.ownerAddress()
        val node = TestNode.start(owner, PAID_READS_FUNDS, TestNode.SHARED)
        try {
            val light = syncedLightClient(node)
            val funded = PAID_READS_FUNDS.toULong()

            // A plain client's read is refused with the node's payment code; nothing is paid.
            val plainLedger = GrantsLedger(light, listOf(node.base))
            val refused = assertThrows<CarChainException.Refused> {
                runBlocking { wallet.pendingRequests(plainLedger) }
            }
            assertEquals("light.node_refused", refused.code)
            assertTrue(refused.detail.contains("payment_required"), refused.detail)
            assertEquals(funded, light.balance(owner))

            // The wallet's paying client reads: one batch of tokens bought from the owner's
            // account, one token spent per address read; a second read spends another
            // token of the same batch.
            val paying = wallet.payingReads(light)
            assertEquals(0uL, paying.readTokensHeld())
            val paidLedger = GrantsLedger(paying, listOf(node.base))
            assertTrue(wallet.pendingRequests(paidLedger).isEmpty())
            assertEquals(funded - OWNER_READ_TOKENS_PRICE, light.balance(owner))
            val afterFirst = paying.readTokensHeld()
            assertTrue(afterFirst in 1uL until OWNER_READ_TOKEN_BATCH, "held $afterFirst")
            assertTrue(wallet.pendingRequests(paidLedger).isEmpty())
            assertEquals(funded - OWNER_READ_TOKENS_PRICE, light.balance(owner))
            val afterSecond = paying.readTokensHeld()
            assertTrue(afterSecond < afterFirst, "held $afterSecond after $afterFirst")
            // The unspent tokens live in the wallet's store: once the first client is
            // closed (its tokens in hand go back), a new paying client holds them all.
            paidLedger.close()
            paying.close()
            val again = wallet.payingReads(light)
            assertEquals(afterSecond, again.readTokensHeld())
            // Buying now: one more batch, one more payment.
            assertEquals(afterSecond + OWNER_READ_TOKEN_BATCH, again.buyReadTokens())
            assertEquals(funded - 2uL * OWNER_READ_TOKENS_PRICE, light.balance(owner))
            // A client without a payer buys nothing.
            val noPayer = assertThrows<CarChainException.InvalidInput> { runBlocking { light.buyReadTokens() } }
            assertEquals("light.invalid_input", noPayer.code)

            // A transfer signed inside the wallet, the fee added.
            val friend = restoreKeys(ABANDON_WORDS, "TREZOR", Network.REGTEST).use { it.ownerAddress() }
            val receipt = wallet.transfer(again, friend, 500uL)
            assertEquals(64, receipt.txId.length)
            assertNotNull(receipt.height)
            assertEquals(500uL, light.balance(friend))
            val left = funded - 2uL * OWNER_READ_TOKENS_PRICE - 500uL - TRANSFER_FEE
            assertEquals(left, light.balance(owner))

            // Refused payments are typed and cost nothing.
            val zero = assertThrows<CarChainException.InvalidInput> {
                runBlocking { wallet.transfer(again, friend, 0uL) }
            }
            assertEquals("payment.zero_amount", zero.code)
            val overdraft = assertThrows<CarChainException.InvalidInput> {
                runBlocking { wallet.transfer(again, friend, left) }
            }
            assertEquals("payment.insufficient_funds", overdraft.code)
            val notAnAccount = assertThrows<CarChainException.InvalidInput> {
                runBlocking { wallet.transfer(again, "not-an-address", 5uL) }
            }
            assertEquals("payment.invalid_recipient", notAnAccount.code)
            assertEquals(left, light.balance(owner))
        } finally {
            node.close()
            dir.deleteRecursively()
        }
    }

    @Test
    fun aCarPairsOnASharedNodeReadingWithFundsTheOwnerSent() = runBlocking {
        val dir = Files.createTempDirectory("carchain-shared-car").toFile()
        val wallet = restoreWallet(dir)
        val node = TestNode.start(wallet.ownerAddress(), PAID_READS_FUNDS, TestNode.SHARED)
        try {
            val light = syncedLightClient(node)
            val paying = wallet.payingReads(light)
            val car = CarDevice.open("$dir/car.db", MemorySecretStore(), "VIN-KOTLIN-SHARED")
            val account = car.accountAddress(Network.REGTEST)
            assertTrue(account.startsWith("bcrt1q"), account)
            // The owner sends the car what its pairing read costs; a second call sends nothing.
            val sent = wallet.fundCarReads(paying, account)
            assertTrue(sent > 0uL, "sent $sent")
            assertEquals(sent, light.balance(account))
            assertEquals(0uL, wallet.fundCarReads(paying, account))
            // The car reads the owner's offer paying from its own account; the pairing completes.
            val carLight = car.payingReads(light)
            val payload = car.pairingPayload(600u)
            coroutineScope {
                val owner = async { wallet.pairDevice(paying, payload, "Shared car", 8u, TestNode.AGENT) }
                while (!car.completePairing(carLight)) delay(100)
                owner.await()
            }
            assertTrue(car.isPaired(carLight))
            assertTrue(light.balance(account) < sent, "the car bought its read tokens")
            assertEquals(listOf("VIN-KOTLIN-SHARED"), wallet.devices().map { it.vid })

            // Fee stamps: one payment of the owner buys them, the car keeps them and pays
            // its puts' fees with them (no pool address is ever funded).
            val before = light.balance(wallet.ownerAddress())
            val stamps = wallet.buyFeeStamps(paying, 2uL)
            assertEquals(2, stamps.size)
            assertEquals(before - 2uL * STAMP_PRICE - TRANSFER_FEE, light.balance(wallet.ownerAddress()))
            car.addFeeStamps(stamps)
            car.addFeeStamps(stamps)
            assertEquals(2uL, car.feeStampsHeld())
            val malformed = assertThrows<CarChainException.InvalidInput> { car.addFeeStamps(listOf(byteArrayOf(1, 2))) }
            assertEquals("device.fee_stamp_malformed", malformed.code)
        } finally {
            node.close()
            dir.deleteRecursively()
        }
    }
}
