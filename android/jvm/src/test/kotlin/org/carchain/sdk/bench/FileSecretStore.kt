// The benchmark's secret store: one file per secret, named by the hex of its name, in
// the directory the Rust half wrote (bindings/benches/month_trips/file_secrets.rs keeps
// the same layout), so both halves open the same wallet store. Bench-only.
package org.carchain.sdk.bench

import java.io.File
import org.carchain.sdk.SecretStore

class FileSecretStore(private val dir: File) : SecretStore {
    private fun file(name: String): File =
        File(dir, name.toByteArray().joinToString("") { "%02x".format(it) })

    override fun load(name: String): ByteArray? = file(name).takeIf { it.isFile }?.readBytes()

    override fun save(name: String, secret: ByteArray) {
        file(name).writeBytes(secret)
    }

    override fun delete(name: String) {
        file(name).delete()
    }
}
