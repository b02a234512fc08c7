package io.poscore.sdk

import io.poscore.ffi.runbook
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import org.junit.jupiter.api.Test

/** The emergency plan through the generated bindings: every area, both languages. */
class RunbookTest {
    @Test
    fun `the runbook covers printer, network, host and storage in both languages`() {
        val entries = runbook()
        for (area in listOf("printer", "network", "host", "storage")) {
            assertTrue(entries.any { it.area == area }, "no $area entries in $entries")
        }
        for (entry in entries) {
            assertTrue(entry.messageZh.any { it in '\u4e00'..'\u9fff' }, "${entry.code}: ${entry.messageZh}")
            assertTrue(entry.messageEn.count { it.isLetter() } > 10, "${entry.code}: ${entry.messageEn}")
        }
        val paperOut = entries.single { it.code == "paper_out" }
        assertEquals("printer_hardware", paperOut.cause)
        assertTrue(paperOut.messageZh.contains("缺纸"), paperOut.messageZh)
        assertEquals(entries.size, entries.map { it.code }.toSet().size, "codes are unique")
    }
}
