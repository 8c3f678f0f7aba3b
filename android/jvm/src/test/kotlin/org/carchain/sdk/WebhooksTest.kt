// A provider's webhook through the Kotlin bindings, against a real carchain-node: a
// provider not on the ledger is refused (webhook.not_found); registered, it registers
// its loopback receiver and reads its hook back (URL, creation height, counts, never the
// secret), with requests signed by its own key; bad URLs are refused with their codes;
// it deletes the hook, and reading or deleting again is webhook.not_found.
package org.carchain.sdk

import com.sun.net.httpserver.HttpServer
import java.net.InetSocketAddress
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class WebhooksTest {
    private fun refusedCode(call: suspend () -> Unit): String =
        assertThrows<CarChainException.Refused> { runBlocking { call() } }.code

    @Test
    fun aProviderRegistersReadsAndDeletesItsOwnWebhook() = runBlocking {
        val provider = ServiceProvider.fromSeed(ByteArray(64) { 0x47 }, Network.REGTEST)
        val other = ServiceProvider.fromSeed(ByteArray(64) { 0x48 }, Network.REGTEST)
        TestNode.start(mapOf(provider.address() to 1_000_000L)).use { node ->
            val light = syncedLightClient(node)
            val ledger = GrantsLedger(light, listOf(node.base))
            val receiver = HttpServer.create(InetSocketAddress("127.0.0.1", 0), 0)
            receiver.createContext("/hook") { exchange ->
                exchange.requestBody.readBytes()
                exchange.sendResponseHeaders(200, -1)
                exchange.close()
            }
            receiver.start()
            try {
                val url = "http://127.0.0.1:${receiver.address.port}/hook"
                // Not a provider on the ledger yet.
                assertEquals("webhook.not_found", refusedCode { provider.registerWebhook(node.base, url) })
                provider.register(ledger, "Insurer", "pay as you drive", listOf())

                val secret = provider.registerWebhook(node.base, url)
                assertEquals(64, secret.length)
                val state = provider.webhookState(node.base)
                assertEquals(provider.address(), state.provider)
                assertEquals(url, state.url)
                assertTrue(state.createdHeight > 0uL)
                assertEquals(0uL, state.pending)
                assertEquals(0uL, state.failed)
                assertEquals(0uL, state.delivered)
                assertNull(state.lastError)
                assertTrue(!state.toString().contains(secret), "no secret in the state")

                assertEquals("webhook.webhook_url_scheme", refusedCode { provider.registerWebhook(node.base, "ftp://127.0.0.1/hook") })
                assertEquals("webhook.webhook_url_self", refusedCode { provider.registerWebhook(node.base, "${node.base}/v1/tx") })
                // Another key has no hook here and reads nothing of this one.
                assertEquals("webhook.not_found", refusedCode { other.webhookState(node.base) })
                assertEquals("webhook.not_found", refusedCode { other.deleteWebhook(node.base) })

                provider.deleteWebhook(node.base)
                assertEquals("webhook.not_found", refusedCode { provider.webhookState(node.base) })
                assertEquals("webhook.not_found", refusedCode { provider.deleteWebhook(node.base) })
            } finally {
                receiver.stop(0)
            }
        }
    }
}
