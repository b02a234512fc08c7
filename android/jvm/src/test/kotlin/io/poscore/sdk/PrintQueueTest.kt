package io.poscore.sdk

import io.poscore.ffi.Delivery
import io.poscore.ffi.Point
import io.poscore.ffi.PosException
import io.poscore.ffi.PrintJobState
import io.poscore.ffi.PrinterVendor
import io.poscore.ffi.SoftwarePrinter
import io.poscore.ffi.Stroke
import io.poscore.ffi.TerminalEvent
import io.poscore.ffi.TxnState
import io.poscore.ffi.defaultConfig
import java.io.ByteArrayInputStream
import java.nio.file.Path
import javax.imageio.ImageIO
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir

/**
 * The print queue from Kotlin: reprint, holds for printer faults and their resumption,
 * diagnosis, printer health, the e-receipt, the slip preview and the signature.
 */
class PrintQueueTest {
    @TempDir
    lateinit var dir: Path

    private val pngSignature = byteArrayOf(0x89.toByte(), 'P'.code.toByte(), 'N'.code.toByte(), 'G'.code.toByte(), 0x0D, 0x0A, 0x1A, 0x0A)

    private fun assertPng(bytes: ByteArray, what: String) {
        assertContentEquals(pngSignature, bytes.copyOf(8), "$what starts with the PNG signature")
        val image = assertNotNull(ImageIO.read(ByteArrayInputStream(bytes)), "$what decodes")
        assertEquals(384, image.width, "$what is 58 mm wide (384 dots)")
        assertTrue(image.height > 300, "$what is a whole slip: ${image.height} dots")
    }

    @Test
    fun `a reprint prints a REPRINT job and is counted`() = runBlocking {
        SoftwarePrinter().use { printer ->
            softwareKeys().use { keys ->
                PosCore.open(journalIn(dir), keys, printer).use { pos ->
                    val recorder = EventRecorder(pos.events).start(this)
                    val t = pos.preauth(newRequestId(), "20.00", PAN, EXPIRY)
                    pos.waitIdle()
                    assertEquals(2, printer.printed().size)

                    val queued = pos.reprint(newRequestId(), t.trace, "merchant")
                    assertEquals(3, queued.printJobs.size)
                    assertTrue(queued.printJobs.last().reprint)
                    val done = pos.awaitTransaction(t.trace) { tx -> tx.printJobs.all { it.state == PrintJobState.PRINTED } }
                    assertEquals(listOf(false, false, true), done.printJobs.map { it.reprint })
                    assertEquals(Delivery.PAPER, done.printJobs.last().delivered)

                    val slip = printer.printed().last()
                    assertTrue(slip.reprint && slip.copy == "merchant", "$slip")
                    assertTrue(slip.lines.any { it.contains("重打印") && it.contains("REPRINT") }, "${slip.lines}")
                    assertTrue(slip.escpos.isNotEmpty(), "the ESC/POS layout travels with the lines")

                    // Reprint of the last slip, any copy.
                    val last = pos.reprint(newRequestId())
                    assertEquals(4, last.printJobs.size)
                    pos.awaitTransaction(t.trace) { tx -> tx.printJobs.all { it.state == PrintJobState.PRINTED } }
                    assertEquals(2L, pos.printerHealth().reprints)
                    recorder.awaitUntil(what = "reprint progress") { events ->
                        events.any { it is TerminalEvent.PrintProgress && it.trace == t.trace && it.reprint && it.number == 3 && it.of == 3 }
                    }
                    recorder.stop()

                    val none = assertFailsWith<PosException.Refused> { pos.reprint(newRequestId(), 999_999, null) }
                    assertBilingual(none, "NOTHING_TO_REPRINT")
                }
            }
        }
    }

    @Test
    fun `paper out holds printing with the remedy, and ready resumes it by itself`() = runBlocking {
        val printer = KotlinVendorPrinter(PrinterVendor.PAX, code = 2) // PAX 2: out of paper
        softwareKeys().use { keys ->
            PosCore.open(journalIn(dir), keys, printer).use { pos ->
                val recorder = EventRecorder(pos.events).start(this)
                val t = pos.preauth(newRequestId(), "30.00", PAN, EXPIRY)
                recorder.awaitUntil(what = "PrintingHeld") { events -> events.any { it is TerminalEvent.PrintingHeld } }
                val held = recorder.events.filterIsInstance<TerminalEvent.PrintingHeld>().first()
                assertEquals("paper_out", held.reason)
                assertTrue(held.messageZh.contains("缺纸") && held.messageEn.contains("out of paper"), "$held")

                // The diagnosis sorts it into printer hardware, with the remedy.
                val diagnosis = assertNotNull(pos.diagnose(t.trace))
                val heldSlip = diagnosis.slips.first { it.state == PrintJobState.HELD }
                val finding = assertNotNull(heldSlip.finding)
                assertEquals("printer_hardware", finding.cause)
                assertTrue(finding.remedyZh.contains("缺纸"), finding.remedyZh)
                assertTrue(finding.remedyEn.contains("paper", ignoreCase = true), finding.remedyEn)
                assertTrue(diagnosis.timeline.any { it.entity == "print_job" && it.to == "held" }, "${diagnosis.timeline}")
                assertEquals("paper_out", pos.printerHealth().heldReason)
                assertTrue(printer.printed.isEmpty())

                printer.code = 0 // paper loaded: the core asks condition() each tick
                recorder.awaitUntil(timeoutMs = 15_000, what = "PrintingResumed") { events -> events.any { it is TerminalEvent.PrintingResumed } }
                val done = pos.awaitTransaction(t.trace) { tx -> tx.printJobs.all { it.state == PrintJobState.PRINTED } }
                assertEquals(listOf("merchant", "cardholder"), printer.printed.map { it.copy })
                assertTrue(done.printJobs.none { it.reprint }, "nothing was sent into the fault, so no reprint: ${done.printJobs}")
                val events = recorder.events.toList()
                val heldAt = events.indexOfFirst { it is TerminalEvent.PrintingHeld }
                val resumedAt = events.indexOfFirst { it is TerminalEvent.PrintingResumed }
                assertTrue(heldAt in 0 until resumedAt, "held before resumed")
                recorder.stop()

                // Health: two slips, one paper change, the paper-out fault counted.
                val health = pos.printerHealth()
                assertEquals(2L, health.jobsPrinted)
                assertTrue(health.printedMm > 0, "$health")
                assertEquals(1L, health.paperChanges, "$health")
                assertTrue(health.mmSincePaperChange in 1..health.printedMm, "$health")
                assertEquals(defaultConfig().rollLengthMm, health.rollLengthMm)
                assertEquals(health.rollLengthMm - health.mmSincePaperChange, health.paperLeftMm)
                assertTrue(health.faults.any { it.condition == "paper_out" && it.count >= 1 }, "${health.faults}")
                assertEquals(0L, health.waiting)
                assertNull(health.heldReason)
                assertFalse(health.paperLow)
                assertTrue(pos.diagnose(t.trace)!!.slips.all { it.finding == null })
            }
        }
    }

    @Test
    fun `an unknown outcome is diagnosed as sync, with no slip`() = runBlocking {
        // Signed on first (a slow host would refuse the sign-on itself); then a host slower
        // than the timeout: .68 never answers, and the reversal gets no answer in time either.
        val slow = defaultConfig().copy(hostTimeoutMs = 1_000, simHostDelayMs = 1_500)
        SoftwarePrinter().use { printer ->
            softwareKeys().use { keys ->
                PosCore.open(journalIn(dir), keys, printer).use { pos ->
                    assertEquals(TxnState.APPROVED, pos.preauth(newRequestId(), "1.00", PAN, EXPIRY).state)
                }
                PosCore.open(journalIn(dir), keys, printer, slow).use { pos ->
                    val t = pos.preauth(newRequestId(), "10.68", PAN, EXPIRY)
                    assertEquals(TxnState.UNKNOWN, t.state)
                    val diagnosis = assertNotNull(pos.diagnose(t.trace))
                    assertTrue(diagnosis.slips.isEmpty())
                    val finding = assertNotNull(diagnosis.noSlip)
                    assertEquals("sync", finding.cause)
                    assertTrue(finding.remedyZh.contains("冲正") && finding.remedyEn.contains("revers"), "$finding")
                    assertTrue(diagnosis.timeline.any { it.entity == "transaction" && it.to == "unknown" }, "${diagnosis.timeline}")
                    assertNull(pos.diagnose(999_999))
                }
            }
        }
    }

    @Test
    fun `the e-receipt is a PNG with a PR1 code that verifies, and delivery is journaled`() = runBlocking {
        val printer = KotlinVendorPrinter(PrinterVendor.SUNMI, code = 4) // Sunmi 4: out of paper
        softwareKeys().use { keys ->
            PosCore.open(journalIn(dir), keys, printer).use { pos ->
                val recorder = EventRecorder(pos.events).start(this)
                val t = pos.preauth(newRequestId(), "45.60", PAN, EXPIRY)
                pos.waitIdle()
                val before = pos.eReceipt(t.trace, "cardholder")
                assertFalse(before.delivered)

                val delivered = pos.deliverElectronically(newRequestId(), t.trace, "cardholder")
                val cardholder = delivered.printJobs.first { it.copy == "cardholder" && !it.reprint }
                assertEquals(PrintJobState.DELIVERED, cardholder.state)
                assertEquals(Delivery.ELECTRONIC, cardholder.delivered)
                recorder.awaitUntil(what = "ElectronicReceipt") { events ->
                    events.any { it is TerminalEvent.ElectronicReceipt && it.trace == t.trace && it.copy == "cardholder" }
                }
                recorder.stop()

                val receipt = pos.eReceipt(t.trace, "cardholder")
                assertTrue(receipt.delivered)
                assertPng(receipt.png, "the e-receipt")
                val fields = receipt.payload.split('|')
                assertEquals(10, fields.size, receipt.payload)
                assertEquals("PR1", fields[0])
                assertEquals(defaultConfig().terminalId, fields[1])
                assertEquals("%06d".format(t.batch), fields[2])
                assertEquals("%06d".format(t.trace), fields[3])
                assertEquals("4560", fields[4])
                assertEquals("CNY", fields[5])
                assertEquals(t.authCode, fields[6])
                assertTrue(Regex("\\d{14}").matches(fields[7]), fields[7])
                assertEquals("c", fields[8])
                assertTrue(Regex("[0-9a-f]{16}").matches(fields[9]), fields[9])
                assertEquals(t.trace, pos.verifyEReceipt(receipt.payload).trace)
                val forged = receipt.payload.replace("|4560|", "|4570|")
                assertBilingual(assertFailsWith<PosException.Refused> { pos.verifyEReceipt(forged) }, "RECEIPT_BAD_MAC")
            }
        }
    }

    @Test
    fun `the slip preview is a PNG, and a saved signature shows on the next slip`() = runBlocking {
        SoftwarePrinter().use { printer ->
            softwareKeys().use { keys ->
                PosCore.open(journalIn(dir), keys, printer).use { pos ->
                    val t = pos.preauth(newRequestId(), "66.00", PAN, EXPIRY)
                    pos.waitIdle()
                    val preview = pos.slipPreview(t.trace)
                    assertPng(preview, "the preview")
                    assertContentEquals(preview, pos.slipPreview(t.trace, "merchant"), "the merchant copy is the default")
                    assertFalse(preview.contentEquals(pos.slipPreview(t.trace, "cardholder")))
                    val badCopy = assertFailsWith<PosException.InvalidInput> { pos.slipPreview(t.trace, "customer") }
                    assertBilingual(badCopy, "SLIP_COPY")

                    val strokes = listOf(
                        Stroke(listOf(Point(20, 150), Point(120, 40), Point(220, 160), Point(320, 50))),
                        Stroke(listOf(Point(360, 120), Point(420, 130))),
                    )
                    val empty = assertFailsWith<PosException.InvalidInput> { pos.saveSignature(newRequestId(), t.trace, emptyList(), 480, 200) }
                    assertBilingual(empty, "SIGNATURE_EMPTY")
                    pos.saveSignature(newRequestId(), t.trace, strokes, 480, 200)
                    val signed = pos.slipPreview(t.trace)
                    assertFalse(preview.contentEquals(signed), "the merchant copy carries the signature")
                    // More ink: the signature is drawn in the signature area.
                    assertTrue(blackDots(signed) > blackDots(preview), "ink ${blackDots(signed)} vs ${blackDots(preview)}")
                    // The cardholder copy has no signature area: unchanged.
                    assertTrue(pos.diagnose(t.trace)!!.timeline.any { it.entity == "signature" })

                    // The next printed merchant slip carries it too (its ESC/POS has the image).
                    val unsignedBytes = printer.printed().first { it.copy == "merchant" }.escpos
                    pos.reprint(newRequestId(), t.trace, "merchant")
                    pos.awaitTransaction(t.trace) { tx -> tx.printJobs.size == 3 && tx.printJobs.all { it.state == PrintJobState.PRINTED } }
                    val signedBytes = printer.printed().last().escpos
                    assertTrue(signedBytes.size > unsignedBytes.size + 100, "raster signature: ${signedBytes.size} vs ${unsignedBytes.size}")
                }
            }
        }
    }

    private fun blackDots(png: ByteArray): Int {
        val image = ImageIO.read(ByteArrayInputStream(png))
        var black = 0
        for (y in 0 until image.height) for (x in 0 until image.width) if (image.getRGB(x, y) and 0xFFFFFF == 0) black++
        return black
    }
}
