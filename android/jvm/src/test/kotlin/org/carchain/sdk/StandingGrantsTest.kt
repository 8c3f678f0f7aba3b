// Standing grants through the Kotlin bindings, against a real carchain-node: a family
// member's request for the trips of ten days is approved once (as of day 2, delivering
// day 1); the background sync the app schedules (a WorkManager worker calls
// syncStandingGrants) delivers each new complete day without the owner approving again
// and nothing twice; after the owner revokes the grant nothing more is delivered; a bad
// day raises the typed CarChainException.
package org.carchain.sdk

import com.sun.net.httpserver.HttpServer
import java.net.InetSocketAddress
import java.nio.file.Files
import java.util.concurrent.LinkedBlockingQueue
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows

const val STANDING_VID = "VIN-KOTLIN-STANDING"

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StandingGrantsTest {
    private lateinit var node: TestNode
    private lateinit var light: LightClient
    private lateinit var ledger: GrantsLedger
    private lateinit var wallet: Wallet
    private lateinit var car: CarDevice
    private lateinit var family: ServiceProvider
    private val dir = Files.createTempDirectory("carchain-standing").toFile()
    /** The provider's webhook receiver on loopback: each notification's body and signature. */
    private val notices = LinkedBlockingQueue<Pair<ByteArray, String>>()
    private lateinit var receiver: HttpServer
    private lateinit var webhookSecret: String

    @BeforeAll
    fun setUp() = runBlocking {
        wallet = restoreWallet(dir)
        family = ServiceProvider.fromSeed(ByteArray(64) { 0x43 }, Network.REGTEST)
        node = TestNode.start(mapOf(wallet.ownerAddress() to 1_000_000L, family.address() to 1_000_000L))
        light = syncedLightClient(node)
        ledger = GrantsLedger(light, listOf(node.base))
        car = pairCar(wallet, light, dir, STANDING_VID, "Family car", 8u)
        family.register(ledger, "Family", "where is the car", listOf())
        receiver = HttpServer.create(InetSocketAddress("127.0.0.1", 0), 0)
        receiver.createContext("/hook") { exchange ->
            val body = exchange.requestBody.readBytes()
            notices.add(body to (exchange.requestHeaders.getFirst("x-carchain-signature") ?: ""))
            exchange.sendResponseHeaders(200, -1)
            exchange.close()
        }
        receiver.start()
        webhookSecret = family.registerWebhook(node.base, "http://127.0.0.1:${receiver.address.port}/hook")
    }

    /** Waits for the webhook notification of `event` naming `grantId`, checking every one
     *  on the way: signed under the provider's secret, holding only id, event, grant_id
     *  and height. */
    private fun awaitNotice(grantId: String, event: String = "grant"): String {
        val deadline = System.currentTimeMillis() + 30_000
        while (System.currentTimeMillis() < deadline) {
            val (body, signature) = notices.poll(500, TimeUnit.MILLISECONDS) ?: continue
            assertTrue(verifyWebhook(webhookSecret, body, signature), "a notice signed under the secret")
            assertTrue(!verifyWebhook(webhookSecret, body + byteArrayOf(0x20), signature))
            val text = String(body)
            val keys = Regex("\"([a-z_]+)\":").findAll(text).map { it.groupValues[1] }.toSet()
            assertEquals(setOf("id", "event", "grant_id", "height"), keys, text)
            assertTrue(!text.contains(wallet.ownerAddress()) && !text.contains(STANDING_VID), text)
            if (text.contains(grantId) && text.contains("\"event\":\"$event\"")) return text
        }
        error("no webhook notification for grant $grantId")
    }

    @AfterAll
    fun stop() {
        if (::receiver.isInitialized) receiver.stop(0)
        if (::node.isInitialized) node.close()
        dir.deleteRecursively()
    }

    private suspend fun drive(vararg days: Int) {
        drive(car, light, *days)
    }

    @Test
    fun aStandingTripGrantDeliversEachNewDayUntilRevoked() = runBlocking {
        drive(1)
        val requestId = family.request(ledger, tripRequest(wallet.ownerAddress(), "2024-05-10", "where is the car"))
        // Approved once on day 2: day 1 is delivered now, the rest as days complete.
        val approval = wallet.approveAsOf(ledger, requestId, STANDING_VID, Narrowing(), "2024-05-02")
        assertEquals(1uL, approval.recordCount)
        val standing = wallet.standingGrants().single()
        assertEquals(approval.grantId, standing.grantId)
        assertEquals(1u, standing.periodDays)
        assertEquals(1u, standing.nextPeriod)
        assertEquals("active", standing.state)
        assertEquals(GrantKind.COPY, wallet.grants().single { it.grantId == approval.grantId }.kind)
        // The provider's webhook hears of the grant (nothing else), signed.
        awaitNotice(approval.grantId)
        val badUrl = assertThrows<CarChainException.Refused> {
            runBlocking { family.registerWebhook(node.base, "ftp://127.0.0.1/hook") }
        }
        assertEquals("webhook.webhook_url_scheme", badUrl.code)

        // Days 2 and 3 are driven; the background sync on day 4 delivers each of them.
        drive(2, 3)
        val synced = wallet.syncStandingGrants(ledger, "2024-05-04").single()
        assertEquals(listOf(1u, 2u), synced.deliveredPeriods)
        assertEquals(2uL, synced.recordCount)
        assertEquals(3u, synced.nextPeriod)
        assertNull(synced.errorCode)
        // The same day again delivers nothing twice.
        assertTrue(wallet.syncStandingGrants(ledger, "2024-05-04").single().deliveredPeriods.isEmpty())

        // The provider's JVM service fetches what arrived since its cursor, verified: one
        // day's trip per period, then nothing new from the cursor it was handed.
        val fetched = family.deliveriesSince(ledger, requestId, 0u, "2024-05-04")
        assertEquals(listOf(0u, 1u, 2u), fetched.deliveries.map { it.period })
        assertEquals(listOf("2024-05-01", "2024-05-02", "2024-05-03"), fetched.deliveries.map { it.fromDate })
        for (delivery in fetched.deliveries) {
            val copy = delivery.outcome as RequestOutcome.CopyDelivered
            assertEquals(listOf("trip-gps"), copy.records.map { it.format })
        }
        assertEquals(3u, fetched.cursor)
        assertEquals("active", fetched.status)
        assertTrue(fetched.inForce)
        assertTrue(family.deliveriesSince(ledger, requestId, fetched.cursor, "2024-05-04").deliveries.isEmpty())
        val pastEnd = assertThrows<CarChainException.Refused> {
            runBlocking { family.deliveriesSince(ledger, requestId, 99u, "2024-05-04") }
        }
        assertEquals("standing.cursor_past_end", pastEnd.code)

        // Revoked: the next sync stops the grant and delivers nothing more; the provider's
        // webhook hears of the revocation.
        wallet.revoke(ledger, approval.grantId)
        awaitNotice(approval.grantId, "revoked")
        drive(4)
        val afterRevoke = wallet.syncStandingGrants(ledger, "2024-05-06").single()
        assertTrue(afterRevoke.deliveredPeriods.isEmpty())
        assertEquals("revoked", afterRevoke.state)
        assertTrue(wallet.syncStandingGrants(ledger, "2024-05-07").isEmpty())
        assertEquals(listOf(0u, 1u, 2u), wallet.standingGrants().single().deliveredPeriods)
        // The provider sees the revocation proven on the ledger, and nothing new.
        val revoked = family.deliveriesSince(ledger, requestId, fetched.cursor, "2024-05-07")
        assertTrue(revoked.deliveries.isEmpty())
        assertEquals("revoked", revoked.status)
        assertTrue(!revoked.inForce)

        val bad = assertThrows<CarChainException.InvalidInput> {
            runBlocking { wallet.syncStandingGrants(ledger, "2024-5-7x") }
        }
        assertEquals("input.invalid_date", bad.code)
    }
}
