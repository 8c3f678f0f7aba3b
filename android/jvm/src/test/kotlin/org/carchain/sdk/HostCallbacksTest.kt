// The host's side of CarChain: a SecretStore (Keystore stand-in) and a Logger.
package org.carchain.sdk

import java.util.Collections
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class MemorySecretStore(private val deny: Boolean = false) : SecretStore {
    val values: MutableMap<String, ByteArray> = Collections.synchronizedMap(mutableMapOf())
    val calls: MutableList<String> = Collections.synchronizedList(mutableListOf())

    override fun load(name: String): ByteArray? {
        calls.add("load $name")
        return values[name]
    }

    override fun save(name: String, secret: ByteArray) {
        calls.add("save $name")
        if (deny) throw SecretStoreException.AccessDenied()
        values[name] = secret
    }

    override fun delete(name: String) {
        calls.add("delete $name")
        values.remove(name)
    }
}

class CollectingLogger : Logger {
    val records: MutableList<Triple<LogLevel, String, String>> =
        Collections.synchronizedList(mutableListOf())

    override fun log(level: LogLevel, target: String, message: String) {
        records.add(Triple(level, target, message))
    }
}

class HostCallbacksTest {
    @Test
    fun walletStoreKeepsItsMasterKeyInTheHostStoreAndLogsTheMigration() {
        val logger = CollectingLogger()
        setLogger(logger, LogLevel.INFO)
        try {
            val secrets = MemorySecretStore()
            WalletStore.openInMemory(secrets).use { store ->
                assertTrue(store.schemaVersion() >= 1u)
            }
            val name = "carchain.wallet.master-key"
            assertEquals(listOf("load $name", "save $name"), secrets.calls.toList())
            assertEquals(32, secrets.values[name]?.size)
            val migrated = logger.records.filter { it.third.startsWith("wallet store migrated") }
            assertTrue(migrated.isNotEmpty(), "records: ${logger.records}")
            assertEquals(LogLevel.INFO, migrated.first().first)
            assertTrue(migrated.first().second.startsWith("carchain_core::store"))
        } finally {
            clearLogger()
        }
    }

    @Test
    fun aRefusingHostStoreIsATypedError() {
        val error = assertThrows<CarChainException.SecretStore> {
            WalletStore.openInMemory(MemorySecretStore(deny = true))
        }
        assertEquals("store.secret_store", error.code)
    }
}
