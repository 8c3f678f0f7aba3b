// CarChain owner keys through the Kotlin bindings: the same vectors as the Rust tests.
package org.carchain.sdk

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

const val ABANDON =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"

class KeysTest {
    @Test
    fun restoresTheOwnerAddressOfTheRustVector() {
        restoreKeys(ABANDON, "", Network.MAINNET).use { keys ->
            assertEquals("bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu", keys.ownerAddress())
            assertEquals(
                "bc5f41fa1db34beeece34c2073f67b817176909db41126b0398bb3d5487d075a",
                keys.rsaFingerprint(),
            )
        }
        restoreKeys(ABANDON, "", Network.REGTEST).use { keys ->
            assertEquals("bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk", keys.ownerAddress())
        }
    }

    @Test
    fun signsWith64ByteSignatures() {
        restoreKeys(ABANDON, "", Network.REGTEST).use { keys ->
            val first = keys.signMessage("setup LBVNU79049SB81546".toByteArray())
            val second = keys.signMessage("setup LBVNU79049SB81547".toByteArray())
            assertEquals(64, first.size)
            assertFalse(first.contentEquals(second))
        }
    }

    @Test
    fun wrongMnemonicIsATypedErrorWithItsCode() {
        val badChecksum = ABANDON.replace("about", "abandon")
        val error = assertThrows<CarChainException.InvalidMnemonic> {
            restoreKeys(badChecksum, "", Network.MAINNET)
        }
        assertEquals("key.bad_checksum", error.code)

        val unknown = assertThrows<CarChainException.InvalidMnemonic> {
            restoreKeys(ABANDON.replace("about", "zzzsecret"), "", Network.MAINNET)
        }
        assertEquals("key.unknown_word", unknown.code)
        assertFalse(unknown.message.orEmpty().contains("zzzsecret"))
    }

    @Test
    fun generatedWordsRestore() {
        val words = generateWords(24u)
        assertEquals(24, words.split(" ").size)
        restoreKeys(words, "", Network.TESTNET).use { keys ->
            assertTrue(keys.ownerAddress().startsWith("tb1q"))
        }
        val error = assertThrows<CarChainException.InvalidInput> { generateWords(13u) }
        assertEquals("key.invalid_word_count", error.code)
    }

    @Test
    fun dayAddressIsOneOfThePoolAndStable() {
        restoreKeys(ABANDON, "", Network.REGTEST).use { keys ->
            val day = keys.dayAddress("LBVNU79049SB81546", 0u, 32u, "2016-05-11")
            assertTrue(day.startsWith("bcrt1q"))
            assertEquals(day, keys.dayAddress("LBVNU79049SB81546", 0u, 32u, "2016-05-11"))
            val error = assertThrows<CarChainException.InvalidInput> {
                keys.dayAddress("LBVNU79049SB81546", 0u, 32u, "11/05/2016")
            }
            assertEquals("pool.invalid_date", error.code)
        }
    }
}
