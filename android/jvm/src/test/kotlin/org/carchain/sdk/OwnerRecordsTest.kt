// The owner's own records through the Kotlin bindings, against a real carchain-node:
// the seed's VIN record put from the wallet, updated (both versions readable), a custom
// service-history record listed, and bad input as typed errors with owner_record.* codes.
package org.carchain.sdk

import java.nio.file.Files
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows

/** The seed's putWalKV record. */
const val SEED_VIN_KEY = """{"VEHICLE_DATA":1}"""
const val SEED_VIN_VALUE = """{"VIN":"LBVNU79049SB81546"}"""

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OwnerRecordsTest {
    private val vid = "VIN-KOTLIN-OWNER"
    private lateinit var node: TestNode
    private lateinit var light: LightClient
    private lateinit var wallet: Wallet
    private val dir = Files.createTempDirectory("carchain-owner-records").toFile()

    @BeforeAll
    fun pair(): Unit = runBlocking {
        wallet = restoreWallet(dir)
        node = TestNode.start(wallet.ownerAddress(), 1_000_000)
        light = lightClient(node)
        pairCar(wallet, light, dir, vid, "My car", 8u)
    }

    @AfterAll
    fun stop() {
        if (::node.isInitialized) node.close()
        dir.deleteRecursively()
    }

    @Test
    fun putUpdateGetAndList(): Unit = runBlocking {
        val day = "2024-05-01"
        val put = wallet.putOwnerRecord(light, vid, day, "VIN_CODE", null, SEED_VIN_KEY, SEED_VIN_VALUE)
        assertEquals(1uL, put.version)
        val corrected = """{"VIN":"LBVNU79049SB81546","MAKE":"SAIC"}"""
        val update = wallet.updateOwnerRecord(light, vid, day, "VIN_CODE", null, SEED_VIN_KEY, corrected)
        assertEquals(2uL, update.version)
        val latest = wallet.getOwnerRecord(light, vid, day, "VIN_CODE", null, SEED_VIN_KEY, listOf("MAKE"))
        assertNotNull(latest)
        assertEquals("""{"MAKE":"SAIC"}""", latest!!.valueJson)
        assertEquals(day, latest.date)
        val versions = wallet.ownerRecordVersions(light, vid, day, "VIN_CODE", null, SEED_VIN_KEY, listOf())
        assertEquals(listOf(1uL, 2uL), versions.map { it.version })
        assertEquals(SEED_VIN_VALUE, versions.first().valueJson)

        val fields = listOf("DATE", "SHOP")
        wallet.putOwnerRecord(
            light, vid, "2024-05-02", "service-history", fields,
            """{"DATE":20240502,"SHOP":"Pudong Motors"}""", """{"work":"brakes","km":42000}""",
        )
        val list = wallet.listOwnerRecords(light, vid, "2024-05-01", "2024-05-07", "service-history", fields, listOf())
        assertEquals(1, list.records.size)
        assertEquals(listOf(1uL), list.versions)
        assertEquals("""{"km":42000,"work":"brakes"}""", list.records.single().valueJson)
    }

    @Test
    fun badInputIsTyped(): Unit = runBlocking {
        val cases = listOf(
            "owner_record.unknown_format" to suspend {
                wallet.putOwnerRecord(light, vid, "2024-05-03", "insurance", null, "{}", "{}")
            },
            "owner_record.invalid_format" to suspend {
                wallet.putOwnerRecord(light, vid, "2024-05-03", "docs", listOf("A", "A"), "{}", "{}")
            },
            "owner_record.invalid_key" to suspend {
                wallet.putOwnerRecord(light, vid, "2024-05-03", "VIN_CODE", null, """{"VIN":1}""", "{}")
            },
            "owner_record.not_owned" to suspend {
                wallet.updateOwnerRecord(light, vid, "2024-05-04", "VIN_CODE", null, SEED_VIN_KEY, "{}")
            },
        )
        for ((code, call) in cases) {
            val error = assertThrows<CarChainException.InvalidInput> { runBlocking { call() } }
            assertEquals(code, error.code)
        }
        val unknown = assertThrows<CarChainException.NotFound> {
            runBlocking { wallet.putOwnerRecord(light, "NO-SUCH-CAR", "2024-05-03", "VIN_CODE", null, SEED_VIN_KEY, "{}") }
        }
        assertEquals("wallet.unknown_device", unknown.code)
    }
}
