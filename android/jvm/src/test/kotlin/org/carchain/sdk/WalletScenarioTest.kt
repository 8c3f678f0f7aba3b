// The issue 5 scenario through the Kotlin bindings, against a real carchain-node: restore
// a wallet, pair a car, three days of trips, sync with progress, devices, day and range
// reads, a decoded track, typed errors, a cancelled sync, the logger's records.
// The README's "Use from Kotlin" example is pairAndPut and the Support.kt helpers it calls
// (keep them in sync).
package org.carchain.sdk

import java.nio.file.Files
import java.util.Collections
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.assertThrows

const val ABANDON_WORDS =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
/** The owner address core's Rust tests pin for these words on regtest. */
const val ABANDON_REGTEST_ADDRESS = "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk"
const val VID = "VIN-KOTLIN-1"

/** A 10-point trip on 2024-05-[day], 08:00 to 08:04:30 UTC: key and value JSON. */
fun tripJson(day: Int, session: Int): Pair<String, String> {
    val date = "202405%02d".format(day)
    val key = """{"SESSION_ID":$session,"START_TIME":${date}080000,"END_TIME":${date}080430}"""
    val gps = (0 until 10).joinToString(",") { i ->
        """{"lat":${48.1 + i * 0.002 + day * 0.01},"lng":${11.5 + i * 0.0017}}"""
    }
    val speeds = (0 until 10).joinToString(",") { i -> "${30 + (i % 7) * 5}" }
    val value = """{"len":10,"GPS":[$gps],"SPEED":"$speeds","VEHICLE_DATA":1,"format":"trip-gps"}"""
    return key to value
}

class ProgressLog : SyncListener {
    val steps: MutableList<Pair<ULong, ULong>> = Collections.synchronizedList(mutableListOf())
    override fun onProgress(height: ULong, target: ULong) {
        steps.add(height to target)
    }
}

@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WalletScenarioTest {
    private val logger = CollectingLogger()
    private lateinit var node: TestNode
    private lateinit var light: LightClient
    private lateinit var wallet: Wallet
    private lateinit var car: CarDevice
    private val dir = Files.createTempDirectory("carchain-scenario").toFile()

    @BeforeAll
    fun pairAndPut() = runBlocking {
        setLogger(logger, LogLevel.INFO)
        // Restore the owner's wallet from words (Keystore stand-in for the secrets).
        wallet = restoreWallet(dir)
        node = TestNode.start(wallet.ownerAddress(), 1_000_000)
        light = syncedLightClient(node)
        car = pairCar(wallet, light, dir, VID, "My car", 16u)
        // Three days of trips, queued offline, then delivered.
        putTrips(car, 1, 2, 3)
        assertEquals(3uL, car.queueLen())
        val report = car.flush(light)
        assertEquals(3uL, report.delivered)
        assertEquals(0uL, car.queueLen())
    }

    @AfterAll
    fun stop() {
        clearLogger()
        if (::node.isInitialized) node.close()
        dir.deleteRecursively()
    }

    @Test
    fun restoredOwnerAddressIsTheRustVector() {
        assertEquals(ABANDON_REGTEST_ADDRESS, wallet.ownerAddress())
        assertEquals(64, wallet.rsaFingerprint().length)
    }

    @Test
    fun syncReportsProgressAndBalanceIsProven() = runBlocking {
        // A fresh client starts from genesis, so every page is reported.
        val fresh = lightClient(node)
        assertEquals(0uL, fresh.verifiedHeight())
        val progress = ProgressLog()
        val height = fresh.sync(progress)
        assertTrue(height > 0uL)
        assertEquals(height, fresh.verifiedHeight())
        assertTrue(progress.steps.isNotEmpty(), "no progress reported")
        val (last, target) = progress.steps.last()
        assertEquals(height, last)
        assertTrue(last <= target || target == 0uL)
        // Pairing and puts were paid from the genesis funds.
        val balance = fresh.balance(wallet.ownerAddress())
        assertTrue(balance in 1uL until 1_000_000uL, "balance $balance")
    }

    @Test
    fun listsThePairedCar() {
        val devices = wallet.devices()
        assertEquals(1, devices.size)
        val car = devices.single()
        assertEquals(VID, car.vid)
        assertEquals("My car", car.name)
        assertEquals(16u, car.poolSize)
        assertEquals("paired", car.status)
        assertTrue(car.pairedAt > 1_700_000_000L)
    }

    @Test
    fun readsADayAndARange() = runBlocking {
        light.sync(ProgressLog())
        val (key, value) = tripJson(2, 2)
        val record = wallet.getKv(light, VID, "2024-05-02", "trip-gps", key, listOf())
        assertNotNull(record)
        assertEquals(parseValue(value).json, record!!.valueJson)
        assertEquals("trip-gps", record.format)
        val none = wallet.getKv(light, VID, "2024-05-03", "trip-gps", key, listOf())
        assertEquals(null, none)
        val range = wallet.getKvRange(light, VID, "2024-05-01", "2024-05-03", "trip-gps", "{}", "{}", listOf())
        assertEquals(3, range.records.size)
        assertEquals(listOf(1L, 2L, 3L), range.records.map { Regex("\"SESSION_ID\":(\\d+)").find(it.keyJson)!!.groupValues[1].toLong() })
        assertEquals(0uL, range.missing)
        assertTrue(range.rejected.isEmpty())
        val trips = wallet.trips(light, VID, "2024-05-01", "2024-05-03")
        assertEquals(listOf(1L, 2L, 3L), trips.trips.map { it.sessionId })
        assertTrue(trips.trips.all { it.pointCount == 10u && it.durationS == 270L })
    }

    @Test
    fun decodesATrackWithPolylineAndGeoJson() = runBlocking {
        light.sync(ProgressLog())
        val (key, value) = tripJson(3, 3)
        val track = wallet.trip(light, VID, "2024-05-03", key)
        assertNotNull(track)
        // What came back from the network decodes exactly as the car's own record.
        val local = decodeTrip(key, value)
        assertEquals(local.polyline, track!!.polyline)
        assertEquals(local.geojson, track.geojson)
        assertTrue(track.packed.contentEquals(local.packed))
        assertEquals(10u, track.summary.pointCount)
        assertEquals(60.0, track.summary.maxSpeedKmh)
        assertTrue(track.geojson.contains("\"LineString\""))
        assertTrue(track.polyline.isNotEmpty())
    }

    @Test
    fun aNewPhoneRestoresTheCarFromTheBackupAndReadsIt() = runBlocking {
        val backup = "$dir/wallet.ccbackup"
        wallet.writeBackup(backup)
        // A new phone: the same words, an empty store, then the backup file.
        val phone = restoreWallet(dir, "phone.db")
        assertTrue(phone.devices().isEmpty())
        val counts = phone.restoreBackup(backup)
        assertEquals(1u, counts.devices)
        val car = phone.devices().single()
        assertEquals(VID, car.vid)
        assertEquals("My car", car.name)
        assertEquals(16u, car.poolSize)
        light.sync(ProgressLog())
        val trips = phone.trips(light, VID, "2024-05-01", "2024-05-03")
        assertEquals(listOf(1L, 2L, 3L), trips.trips.map { it.sessionId })
        // Another wallet (the same words with a passphrase) cannot open it, and a cut
        // file is refused by kind; neither writes anything.
        val stranger = restoreWallet(dir, "stranger.db", "other")
        val wrong = assertThrows<CarChainException.Storage> { stranger.restoreBackup(backup) }
        assertEquals("backup.wrong_wallet", wrong.code)
        val bytes = java.io.File(backup).readBytes()
        java.io.File("$dir/cut.ccbackup").writeBytes(bytes.copyOf(bytes.size / 2))
        val cut = assertThrows<CarChainException.Storage> { stranger.restoreBackup("$dir/cut.ccbackup") }
        assertEquals("backup.truncated", cut.code)
        assertTrue(stranger.devices().isEmpty())
    }

    @Test
    fun anExportVerifiesWithoutTheWalletAndAChangedOneIsRefused() = runBlocking {
        val archive = "$dir/car.tar"
        val written = wallet.export(light, VID, "2024-05-01", "2024-05-03", archive)
        assertEquals(3uL, written.records)
        assertEquals(3uL, written.trips)
        // Anyone verifies it offline, with the chain's anchor and without any wallet key.
        val trusted = TrustedAnchor(TestNode.CHAIN_ID, Network.REGTEST, node.validatorPubkey)
        assertEquals(written, verifyExport(archive, trusted))
        assertEquals(node.validatorPubkey, verifyExport(archive, null).validatorPubkeyHex)
        // One changed byte of a decrypted record, a cut archive: refused by kind.
        val bytes = java.io.File(archive).readBytes()
        val at = String(bytes, Charsets.ISO_8859_1).indexOf("trip-gps")
        val changed = bytes.copyOf().also { it[at] = 'T'.code.toByte() }
        java.io.File("$dir/changed.tar").writeBytes(changed)
        val tampered = assertThrows<CarChainException.InvalidRecord> { verifyExport("$dir/changed.tar", null) }
        assertEquals("export.file_changed", tampered.code)
        java.io.File("$dir/cut.tar").writeBytes(bytes.copyOf(bytes.size / 2))
        val cut = assertThrows<CarChainException.InvalidInput> { verifyExport("$dir/cut.tar", null) }
        assertEquals("export.truncated", cut.code)
        // A car this wallet does not have, a missing directory: typed, and no file.
        val unknown = assertThrows<CarChainException.NotFound> {
            runBlocking { wallet.export(light, "NOT-MY-CAR", "2024-05-01", "2024-05-03", "$dir/none.tar") }
        }
        assertEquals("export.unknown_car", unknown.code)
        val noDir = assertThrows<CarChainException.Storage> {
            runBlocking { wallet.export(light, VID, "2024-05-01", "2024-05-03", "$dir/no/such/x.tar") }
        }
        assertEquals("export.io", noDir.code)
        assertTrue(!java.io.File("$dir/none.tar").exists())
    }

    @Test
    fun wrongWordsAreATypedError() {
        val words = ABANDON_WORDS.replace("about", "abandon")
        val error = assertThrows<CarChainException.InvalidMnemonic> {
            Wallet.restore("$dir/other.db", MemorySecretStore(), Network.REGTEST, words, "")
        }
        assertEquals("key.bad_checksum", error.code)
    }

    @Test
    fun aBadPairingPayloadIsATypedError() = runBlocking {
        val error = assertThrows<CarChainException.InvalidPairingPayload> {
            runBlocking { wallet.pairDevice(light, "carchain:pair?v=1&vid=X", "x", 16u, TestNode.AGENT) }
        }
        assertEquals("pairing.malformed", error.code)
    }

    @Test
    fun aCancelledSyncLeavesTheClientUsable() = runBlocking {
        val before = light.verifiedHeight()
        val job = launch { light.sync(ProgressLog()) }
        job.cancelAndJoin()
        assertTrue(job.isCancelled)
        val after = light.sync(ProgressLog())
        assertTrue(after >= before)
        val trips = wallet.trips(light, VID, "2024-05-01", "2024-05-03")
        assertEquals(3, trips.trips.size)
    }

    @Test
    fun theLoggerReceivedTheStoresMigrations() {
        val messages = logger.records.map { it.third }
        assertTrue(messages.any { it.startsWith("wallet store migrated") }, "records: $messages")
        assertTrue(messages.any { it.startsWith("car store migrated") }, "records: $messages")
    }
}
