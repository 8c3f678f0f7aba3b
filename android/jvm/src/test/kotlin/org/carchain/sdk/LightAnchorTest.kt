// The light client's trust anchor through the Kotlin bindings, against a real carchain-node:
// a client anchored to the node's genesis validator set (typed, or in its text form) syncs
// and reads a proven balance; the checkpoint it reaches (a verified CometBFT height and
// header hash) anchors a second client, which syncs from there. A client anchored to
// another validator, or to a checkpoint whose hash is not the chain's, verifies nothing:
// it drops the node (never the last one it has), says why, and raises a typed error.
package org.carchain.sdk

import java.nio.file.Files
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNotNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/** The voting power `carchain-node init` gives its one validator. */
const val EMBEDDED_VALIDATOR_POWER = 10uL
/** A valid ed25519 key that is not the node's validator (RFC 8032's first test vector). */
const val FOREIGN_VALIDATOR = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
const val ANCHOR_FUNDS = 5_000L

/** The stable code of a light-client error (the kinds a light client raises). */
fun CarChainException.stableCode(): String = when (this) {
    is CarChainException.Unavailable -> code
    is CarChainException.Refused -> code
    is CarChainException.Verification -> code
    is CarChainException.InvalidInput -> code
    is CarChainException.Internal -> code
    else -> error("not a light-client error: $this")
}

class LightAnchorTest {
    /** `client` of [node, spare] verifies nothing: `node` is dropped, and `spare`, the last
     *  node left, is kept (a client never drops its last node) but its answers refused too. */
    private fun assertRefusedAndDropped(client: LightClient, owner: String, node: TestNode) {
        val refused = assertThrows<CarChainException> { runBlocking { client.balance(owner) } }
        assertTrue(
            refused.stableCode() in setOf("light.forged_commit", "light.all_nodes_failed"),
            "${refused.stableCode()}: ${refused.message}",
        )
        val dropped = client.droppedEndpoints()
        assertEquals(listOf(node.base), dropped.map { it.endpoint })
        assertTrue(dropped.single().reason.isNotBlank())
        assertEquals(0uL, client.verifiedHeight())
    }

    @Test
    fun theGenesisSetOrACheckpointAnchorsAClientAndAForeignAnchorVerifiesNothing() = runBlocking {
        val dir = Files.createTempDirectory("carchain-anchor").toFile()
        val wallet = restoreWallet(dir)
        val owner = wallet.ownerAddress()
        val node = TestNode.start(owner, ANCHOR_FUNDS)
        val spare = TestNode.start(owner, ANCHOR_FUNDS)
        try {
            val both = listOf(node.base, spare.base)
            val genesisSet = listOf(AnchorValidator(node.validatorPubkey, EMBEDDED_VALIDATOR_POWER))
            val genesis = LightClient.withValidators(
                listOf(node.base), TestNode.CHAIN_ID, Network.REGTEST, genesisSet,
            )
            // The text form leaves out the default power, as `carchain-node init` prints it.
            assertEquals(node.validatorPubkey, genesis.trustAnchor())
            assertEquals(genesisSet, genesis.anchorValidators())
            assertEquals(null, genesis.checkpoint(), "no checkpoint before the first sync")
            genesis.sync(ProgressLog())
            assertEquals(ANCHOR_FUNDS.toULong(), genesis.balance(owner))
            assertTrue(genesis.droppedEndpoints().isEmpty())
            // The text form `carchain-node init` prints is the same anchor.
            val text = lightClient(node)
            assertEquals(ANCHOR_FUNDS.toULong(), text.balance(owner))

            // The checkpoint the first client verified anchors a second one.
            val checkpoint = genesis.checkpoint()
            assertNotNull(checkpoint, "a checkpoint after the sync")
            checkpoint!!
            val (height, hash) = checkpoint.split(":")
            assertEquals(64, hash.length)
            val fromCheckpoint = LightClient.withTrustedHeight(
                listOf(node.base), TestNode.CHAIN_ID, Network.REGTEST, height.toULong(), hash,
            )
            assertEquals(checkpoint, fromCheckpoint.trustAnchor())
            assertTrue(fromCheckpoint.anchorValidators().isEmpty())
            assertEquals(ANCHOR_FUNDS.toULong(), fromCheckpoint.balance(owner))
            assertTrue(fromCheckpoint.verifiedHeight() >= height.toULong() - 1uL)

            // A foreign validator set, or a checkpoint with another hash, certifies nothing.
            assertRefusedAndDropped(
                LightClient.withValidators(
                    both, TestNode.CHAIN_ID, Network.REGTEST,
                    listOf(AnchorValidator(FOREIGN_VALIDATOR, EMBEDDED_VALIDATOR_POWER)),
                ),
                owner, node,
            )
            val otherHash = if (hash.startsWith("ab")) "cd".repeat(32) else "ab".repeat(32)
            assertRefusedAndDropped(
                LightClient.withTrustedHeight(
                    both, TestNode.CHAIN_ID, Network.REGTEST, height.toULong(), otherHash,
                ),
                owner, node,
            )
            // Bad anchors are refused before any request.
            val badKey = assertThrows<CarChainException.InvalidInput> {
                LightClient.withValidators(
                    listOf(node.base), TestNode.CHAIN_ID, Network.REGTEST,
                    listOf(AnchorValidator("02" + "11".repeat(32), EMBEDDED_VALIDATOR_POWER)),
                )
            }
            assertEquals("light.invalid_input", badKey.code)
            val zeroHeight = assertThrows<CarChainException.InvalidInput> {
                LightClient.withTrustedHeight(listOf(node.base), TestNode.CHAIN_ID, Network.REGTEST, 0uL, hash)
            }
            assertEquals("light.invalid_input", zeroHeight.code)
        } finally {
            spare.close()
            node.close()
            wallet.close()
            dir.deleteRecursively()
        }
    }
}
