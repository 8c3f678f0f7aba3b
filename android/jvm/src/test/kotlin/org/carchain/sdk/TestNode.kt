// A real carchain-node on loopback for the scenario tests: `init` a regtest chain whose
// genesis funds the given accounts, then `run` it with 50 ms blocks in private mode (or
// the mode asked: `shared` charges for reads); killed by close().
package org.carchain.sdk

import java.io.File
import java.nio.file.Files
import java.util.concurrent.TimeUnit

class TestNode private constructor(
    val base: String,
    val validatorPubkey: String,
    private val process: Process,
    private val dataDir: File,
) : AutoCloseable {
    companion object {
        const val CHAIN_ID = "carchain-dev"
        const val AGENT = "e2e-agent"

        /** The binary built by scripts/test-kotlin (system property `carchain.node.bin`). */
        private fun binary(): String {
            val path = System.getProperty("carchain.node.bin")
                ?: System.getenv("CARCHAIN_NODE_BIN")
                ?: error("set -Dcarchain.node.bin or CARCHAIN_NODE_BIN to target/debug/carchain-node")
            check(File(path).canExecute()) { "carchain-node not built at $path (cargo build -p carchain-node)" }
            return path
        }

        const val PRIVATE = "private"
        /** The mode that charges for reads (read tokens bought from the operator). */
        const val SHARED = "shared"

        fun start(fundAddress: String, amount: Long, mode: String = PRIVATE): TestNode =
            start(mapOf(fundAddress to amount), mode)

        /** Starts a node whose genesis gives each address its amount, in `mode`. */
        fun start(funds: Map<String, Long>, mode: String = PRIVATE): TestNode {
            require(mode == PRIVATE || mode == SHARED) { "mode is private or shared, not $mode" }
            require(funds.isNotEmpty()) { "fund at least one account" }
            val bin = binary()
            val dataDir = Files.createTempDirectory("carchain-node").toFile()
            val args = mutableListOf(
                bin, "init", "--data-dir", dataDir.path, "--network", "regtest", "--chain-id", CHAIN_ID,
            )
            funds.forEach { (address, amount) -> args += listOf("--fund", "$address=$amount") }
            val init = ProcessBuilder(args).redirectErrorStream(true).start()
            val initOut = init.inputStream.bufferedReader().readText()
            check(init.waitFor(60, TimeUnit.SECONDS) && init.exitValue() == 0) { "init failed: $initOut" }
            val validator = initOut.lines().first { it.startsWith("validator_pubkey:") }
                .substringAfter(":").trim()
            val process = ProcessBuilder(
                bin, "run", "--data-dir", dataDir.path, "--listen", "127.0.0.1:0",
                "--block-time-ms", "50", "--mode", mode, "--agent", AGENT,
            ).redirectErrorStream(true).start()
            val reader = process.inputStream.bufferedReader()
            var base: String? = null
            while (base == null) {
                val line = reader.readLine() ?: error("carchain-node exited before listening")
                if (line.startsWith("listening on ")) base = line.removePrefix("listening on ").trim()
            }
            // Keep draining its output so the node never blocks on a full pipe.
            Thread { reader.forEachLine { } }.apply { isDaemon = true }.start()
            return TestNode(base, validator, process, dataDir)
        }
    }

    /** Kills the node outright: a graceful stop would wait for the clients' keep-alive
     *  connections, and its throwaway chain needs no clean shutdown. */
    override fun close() {
        process.destroyForcibly()
        process.waitFor(10, TimeUnit.SECONDS)
        dataDir.deleteRecursively()
    }
}
