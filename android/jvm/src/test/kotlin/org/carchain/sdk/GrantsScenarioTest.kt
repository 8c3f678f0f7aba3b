// The owner-side grant calls through the Kotlin bindings, against a real carchain-node:
// a service provider (funded at genesis) registers and asks the owner for data; the owner
// lists the pending request and checks what it asks, approves it narrowed, sees the grant,
// revokes it; a second request is rejected and its escrow refunded; a paid computation's
// escrow is declared, released by the provider and the owner's balance grows by the price
// less the owner's fees; bad ids and narrowings raise the typed CarChainException.
package org.carchain.sdk

import java.nio.file.Files
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows

const val GRANTS_VID = "VIN-KOTLIN-GRANTS"
/** What the provider offers for the UBI score. */
const val UBI_PRICE = 25_000uL
/** The owner's fees for a paid approval: Grant, DataResponse and EscrowDeliver at the
 *  default base fee of 10 (the delivery record's put fee is reimbursed in phase 1). */
const val OWNER_APPROVAL_FEES = 30uL
const val DAY_MS = 86_400_000uL

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GrantsScenarioTest {
    private lateinit var node: TestNode
    private lateinit var light: LightClient
    private lateinit var ledger: GrantsLedger
    private lateinit var wallet: Wallet
    private lateinit var provider: ServiceProvider
    private lateinit var ubi: String
    private val dir = Files.createTempDirectory("carchain-grants").toFile()

    @BeforeAll
    fun setUp() = runBlocking {
        wallet = restoreWallet(dir)
        provider = ServiceProvider.fromSeed(ByteArray(64) { 0x41 }, Network.REGTEST)
        node = TestNode.start(mapOf(wallet.ownerAddress() to 1_000_000L, provider.address() to 1_000_000L))
        light = syncedLightClient(node)
        ledger = GrantsLedger(light, listOf(node.base))
        // The owner's car, paired, with three days of trips on the network.
        val car = pairCar(wallet, light, dir, GRANTS_VID, "Granted car", 8u)
        assertEquals(3uL, drive(car, light, 1, 2, 3).delivered)
        // The provider registers its service and the UBI computation it offers.
        ubi = shippedProgramHash(ShippedProgram.UBI_SCORE)
        provider.register(ledger, "Acme Insurance", "pay-as-you-drive quotes", listOf(ubi))
    }

    @AfterAll
    fun stop() {
        if (::node.isInitialized) node.close()
        dir.deleteRecursively()
    }

    private fun nowMs(): ULong = System.currentTimeMillis().toULong()

    private suspend fun requestCopy(price: ULong, expiresAt: ULong?): String = provider.request(
        ledger,
        tripRequest(wallet.ownerAddress(), "2024-05-03", "a used-car valuation", price, expiresAtMs = expiresAt),
    )

    private suspend fun pending(requestId: String): PendingRequest? =
        wallet.pendingRequests(ledger).firstOrNull { it.requestId == requestId }

    @Test
    fun aCopyIsListedApprovedNarrowedGrantedAndRevoked() = runBlocking {
        val expiresAt = nowMs() + DAY_MS
        val requestId = requestCopy(0uL, expiresAt)
        // The owner sees who asks, what, for which days, why, for how much, until when.
        val asked = pending(requestId)
        assertNotNull(asked, "the request is pending")
        asked!!
        assertEquals(provider.address(), asked.provider.address)
        assertEquals("Acme Insurance", asked.provider.name)
        assertEquals("pay-as-you-drive quotes", asked.provider.description)
        assertEquals(provider.rsaFingerprint(), asked.provider.rsaFingerprint)
        assertEquals(listOf(ubi), asked.provider.codeHashes)
        assertEquals(listOf("trip-gps"), asked.formats)
        assertEquals("2024-05-01" to "2024-05-03", asked.fromDate to asked.toDate)
        assertEquals(listOf(Privilege.LOCATION_HISTORY), asked.privileges)
        assertNull(asked.computation, "a copy names no computation")
        assertEquals("a used-car valuation", asked.purpose)
        assertEquals(0uL, asked.price)
        assertEquals(expiresAt, asked.expiresAtMs)
        assertNull(asked.escrow, "a free request has no escrow")

        // Approved for one day only, the grant ending in a week.
        val grantEnds = nowMs() + 7uL * DAY_MS
        val approval = wallet.approve(
            ledger, requestId, GRANTS_VID,
            Narrowing(fromDate = "2024-05-02", toDate = "2024-05-02", expiresAtMs = grantEnds),
        )
        assertEquals(1uL, approval.recordCount)
        assertEquals("2024-05-02" to "2024-05-02", approval.fromDate to approval.toDate)
        assertEquals(listOf("trip-gps"), approval.formats)
        assertNull(approval.payment)
        assertNull(pending(requestId), "an approved request is no longer pending")

        // The provider receives exactly day 2's trip, decrypted and verified.
        val outcome = provider.waitForResult(ledger, requestId, 30_000uL)
        assertTrue(outcome is RequestOutcome.CopyDelivered, "outcome $outcome")
        val copy = outcome as RequestOutcome.CopyDelivered
        assertEquals(approval.grantId, copy.grantId)
        assertEquals(1, copy.records.size)
        assertEquals(parseValue(tripJson(2, 2).second).json, copy.records.single().valueJson)

        // The grant is in the wallet and on the ledger, then revoked in both.
        val granted = wallet.grants().single { it.grantId == approval.grantId }
        assertEquals(GrantStatus.ACTIVE, granted.status)
        assertEquals(GrantKind.COPY, granted.kind)
        assertEquals(requestId, granted.requestId)
        assertEquals("Acme Insurance", granted.providerName)
        assertEquals(1uL, granted.recordCount)
        assertEquals(GrantStatus.ACTIVE, ledger.grant(approval.grantId)!!.status)
        assertEquals(grantEnds, ledger.grant(approval.grantId)!!.expiresAtMs)
        wallet.revoke(ledger, approval.grantId)
        val active = wallet.grants().filter { it.status == GrantStatus.ACTIVE }
        assertTrue(active.none { it.grantId == approval.grantId }, "revoked grant still active: $active")
        assertEquals(GrantStatus.REVOKED, wallet.grants().single { it.grantId == approval.grantId }.status)
        val onLedger = ledger.grant(approval.grantId)!!
        assertEquals(GrantStatus.REVOKED, onLedger.status)
        assertEquals(wallet.ownerAddress(), onLedger.grantor)
        assertEquals(provider.address(), onLedger.grantee)
    }

    @Test
    fun aSecondRequestIsRejectedAndItsEscrowRefunded() = runBlocking {
        val requestId = requestCopy(5_000uL, null)
        val asked = pending(requestId)!!
        val escrow = asked.escrow!!
        assertEquals(EscrowStatus.OPEN, escrow.status)
        assertEquals(5_000uL, escrow.amount)
        assertEquals(provider.address(), escrow.buyer)
        assertEquals(wallet.ownerAddress(), escrow.seller)
        assertEquals(requestId, escrow.requestId)
        assertNull(asked.expiresAtMs)

        // Asking for more than requested, or approximating a copy, is refused; the
        // request stays open.
        val wider = assertThrows<CarChainException.InvalidNarrowing> {
            runBlocking {
                wallet.approve(ledger, requestId, GRANTS_VID, Narrowing(fromDate = "2024-04-30", toDate = "2024-05-02"))
            }
        }
        assertEquals("grants.invalid_narrowing", wider.code)
        val approximated = assertThrows<CarChainException.InvalidNarrowing> {
            runBlocking { wallet.approve(ledger, requestId, GRANTS_VID, Narrowing(approximate = true)) }
        }
        assertEquals("grants.invalid_narrowing", approximated.code)
        assertNotNull(pending(requestId))

        wallet.reject(ledger, requestId)
        assertNull(pending(requestId), "a rejected request is no longer pending")
        assertEquals(RequestOutcome.Rejected, provider.waitForResult(ledger, requestId, 30_000uL))
        assertEquals(EscrowStatus.REFUNDED, ledger.escrow(escrow.escrowId)!!.status)
        val again = assertThrows<CarChainException.RequestClosed> {
            runBlocking { wallet.approve(ledger, requestId, GRANTS_VID, Narrowing()) }
        }
        assertEquals("grants.request_closed", again.code)
    }

    @Test
    fun aPaidComputationPaysTheOwnerThroughItsEscrow() = runBlocking {
        val requestId = provider.request(
            ledger,
            tripRequest(wallet.ownerAddress(), "2024-05-03", "a usage-based insurance quote", UBI_PRICE, ubi),
        )
        val asked = pending(requestId)!!
        assertEquals(ubi, asked.computation)
        assertEquals(UBI_PRICE, asked.price)
        val escrow = asked.escrow!!
        assertEquals(EscrowStatus.OPEN, escrow.status)
        assertEquals(UBI_PRICE, escrow.amount)

        // Approved with a privacy zone around where day 1's trip starts.
        val (key, value) = tripJson(1, 1)
        val home = decodeTrip(key, value).summary.bbox
        val zone = PrivacyZone(lat = home.minLat, lng = home.minLng, radiusM = 300.0)
        val before = wallet.balance(ledger)
        val approval = wallet.approve(ledger, requestId, GRANTS_VID, Narrowing(privacyZones = listOf(zone)))
        assertEquals(3uL, approval.recordCount)
        assertEquals(1u, approval.privacyZoneCount)
        val declared = approval.payment!!
        assertEquals(escrow.escrowId, declared.escrowId)
        assertEquals(UBI_PRICE, declared.amount)
        val delivered = ledger.escrow(declared.escrowId)!!
        assertEquals(EscrowStatus.DELIVERED, delivered.status)
        assertEquals(declared.dHashRoot, delivered.dHashRoot)

        // The provider receives only the signed score and accepts: the escrow pays the owner.
        val outcome = provider.waitForResult(ledger, requestId, 30_000uL) as RequestOutcome.ResultDelivered
        assertEquals(ubi, outcome.programHash)
        assertEquals(3uL, outcome.inputCount)
        assertEquals(EscrowStatus.RELEASED, outcome.payment!!.status)
        assertEquals(EscrowStatus.RELEASED, ledger.escrow(declared.escrowId)!!.status)
        val score = outcome.output as ComputationOutput.UbiScore
        assertTrue(score.score <= 1000uL, "score ${score.score}")
        // The zone cut the start of day 1's trip: less distance than the three whole trips.
        val whole = wallet.trips(light, GRANTS_VID, "2024-05-01", "2024-05-03").trips.sumOf { it.distanceM }
        assertTrue(score.distanceM > 0uL && score.distanceM.toDouble() < whole - 200.0, "${score.distanceM} of $whole m")
        assertEquals(before + UBI_PRICE - OWNER_APPROVAL_FEES, wallet.balance(ledger))
        assertEquals(GrantKind.COMPUTE, wallet.grants().single { it.grantId == approval.grantId }.kind)
    }

    @Test
    fun badIdsAreTypedErrors() = runBlocking {
        val notHex = assertThrows<CarChainException.InvalidInput> {
            runBlocking { wallet.approve(ledger, "not-a-request-id", GRANTS_VID, Narrowing()) }
        }
        assertEquals("grants.invalid_id", notHex.code)
        val unknown = assertThrows<CarChainException.NotFound> {
            runBlocking { wallet.approve(ledger, "ab".repeat(32), GRANTS_VID, Narrowing()) }
        }
        assertEquals("grants.unknown_request", unknown.code)
        val short = assertThrows<CarChainException.InvalidInput> { runBlocking { wallet.reject(ledger, "12") } }
        assertEquals("grants.invalid_id", short.code)
        val noGrant = assertThrows<CarChainException.NotFound> {
            runBlocking { wallet.revoke(ledger, "cd".repeat(32)) }
        }
        assertEquals("grants.unknown_grant", noGrant.code)
        val badEscrow = assertThrows<CarChainException.InvalidInput> { runBlocking { ledger.escrow("zz") } }
        assertEquals("grants.invalid_id", badEscrow.code)
        assertNull(ledger.escrow("ef".repeat(32)))
        val badSeed = assertThrows<CarChainException.InvalidInput> {
            ServiceProvider.fromSeed(ByteArray(16), Network.REGTEST)
        }
        assertEquals("grants.invalid_seed", badSeed.code)
    }
}
