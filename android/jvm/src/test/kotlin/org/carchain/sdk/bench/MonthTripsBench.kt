// The Kotlin half of the bindings benchmark (scripts/bench-bindings runs it after the
// Rust half, bindings/benches/month_trips, has loaded a month of trips and timed
// Wallet::trips from Rust): the same cold read of the month, Wallet.trips called from
// Kotlin through JNA, a reopened wallet and a new light client each run; prints both
// medians and the Kotlin/Rust ratio (goal <= 1.3), then deletes the hand-off file so
// the Rust half stops its node. A plain main, not a test: the normal run never starts it.
package org.carchain.sdk.bench

import java.io.File
import kotlin.system.exitProcess
import kotlinx.coroutines.runBlocking
import org.carchain.sdk.LightClient
import org.carchain.sdk.Network
import org.carchain.sdk.Wallet

private const val GOAL = 1.3

fun median(values: List<Double>): Double = values.sorted()[values.size / 2]

/** One cold read of the month; returns its time in ms after checking what came back. */
suspend fun readMonth(handoff: Handoff, secrets: FileSecretStore): Double {
    val trips = handoff.number("trips").toInt()
    val points = handoff.number("points_per_trip").toLong()
    Wallet.open(handoff.text("wallet_path"), secrets).use { wallet ->
        LightClient(
            listOf(handoff.text("node_url")), handoff.text("chain_id"), Network.REGTEST,
            handoff.text("validator_pubkey"),
        ).use { light ->
            val started = System.nanoTime()
            val list = wallet.trips(light, handoff.text("vid"), handoff.text("from"), handoff.text("to"))
            val ms = (System.nanoTime() - started) / 1e6
            val read = list.trips.sumOf { it.pointCount.toLong() }
            check(list.trips.size == trips && read == trips * points && list.rejected.isEmpty()) {
                "read ${list.trips.size} trips / $read points, ${list.rejected.size} rejected; " +
                    "expected $trips / ${trips * points}"
            }
            return ms
        }
    }
}

fun main(args: Array<String>) {
    val file = File(args.singleOrNull() ?: error("usage: MonthTripsBench <handoff.json>"))
    val handoff = Handoff.read(file)
    try {
        val secrets = FileSecretStore(File(handoff.text("secrets_dir")))
        val warmups = handoff.number("warmups").toInt()
        val runs = handoff.number("runs").toInt()
        val kotlinMs = runBlocking { (0 until warmups + runs).map { readMonth(handoff, secrets) } }.drop(warmups)
        val rustMs = handoff.numbers("rust_runs_ms")
        val kotlin = median(kotlinMs)
        val rust = handoff.number("rust_median_ms")
        val ratio = kotlin / rust
        val month = "${handoff.text("trips")} trips x ${handoff.text("points_per_trip")} points"
        println("| a month of trips ($month), cold read | median of $runs | runs (ms) |")
        println("|---|---|---|")
        println("| Rust: Wallet::trips | %.1f ms | %s |".format(rust, rustMs.joinToString(" ") { "%.1f".format(it) }))
        println("| Kotlin via JNA: Wallet.trips | %.1f ms | %s |".format(kotlin, kotlinMs.joinToString(" ") { "%.1f".format(it) }))
        println("| ratio Kotlin / Rust (goal <= $GOAL) | %.2f | %s |".format(ratio, if (ratio <= GOAL) "met" else "MISSED"))
    } catch (e: Exception) {
        System.err.println("month-trips bench failed: $e")
        file.delete()
        exitProcess(1)
    }
    file.delete()
}
