// The hand-off the Rust half of the benchmark writes (bindings/benches/month_trips):
// a flat JSON object of strings, numbers and one array of numbers, read without a JSON
// library (the harness has none).
package org.carchain.sdk.bench

import java.io.File

class Handoff(private val fields: Map<String, String>) {
    fun text(name: String): String = fields[name] ?: error("hand-off has no \"$name\"")
    fun number(name: String): Double = text(name).toDouble()
    fun numbers(name: String): List<Double> =
        text(name).trim('[', ']').split(',').map { it.trim() }.filter { it.isNotEmpty() }.map { it.toDouble() }

    companion object {
        private val field = Regex(""""(\w+)"\s*:\s*(?:"((?:[^"\\]|\\.)*)"|(\[[^\]]*\]|[-+0-9.eE]+))""")

        fun read(file: File): Handoff = Handoff(
            field.findAll(file.readText()).associate { m ->
                val (name, text, raw) = m.destructured
                name to text.ifEmpty { raw }
            },
        )
    }
}
