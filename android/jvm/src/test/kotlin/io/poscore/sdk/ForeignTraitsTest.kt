package io.poscore.sdk

import io.poscore.ffi.DeviceStatus
import io.poscore.ffi.KeyProvider
import io.poscore.ffi.PosException
import io.poscore.ffi.PrintJobState
import io.poscore.ffi.PrinterCondition
import io.poscore.ffi.PrinterDevice
import io.poscore.ffi.PrinterVendor
import io.poscore.ffi.Slip
import io.poscore.ffi.SoftwarePrinter
import io.poscore.ffi.TxnState
import io.poscore.ffi.WorkingKeys
import io.poscore.ffi.describePrinterStatus
import io.poscore.ffi.liveTerminalCount
import java.nio.file.Path
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.atomic.AtomicInteger
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertTrue
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir

/**
 * A vendor printer written in Kotlin: answers with the vendor's raw codes, as an adapter over
 * the Sunmi, PAX or Landi SDK would. [code] is the device's state now; a slip counts as
 * printed (kept in [printed]) only when that state can print.
 */
class KotlinVendorPrinter(private val vendor: PrinterVendor, @Volatile var code: Int) : PrinterDevice {
    val printed = CopyOnWriteArrayList<Slip>()
    val calls = AtomicInteger()
    val threads = CopyOnWriteArrayList<String>()

    override fun print(slip: Slip): DeviceStatus {
        calls.incrementAndGet()
        threads += Thread.currentThread().name
        val now = code
        if (describePrinterStatus(DeviceStatus(vendor, now, null)).canPrint) printed += slip
        return DeviceStatus(vendor, now, "kotlin ${vendor.name.lowercase()} printer")
    }

    val statusReads = AtomicInteger()

    override fun status(): DeviceStatus {
        statusReads.incrementAndGet()
        return DeviceStatus(vendor, code, null)
    }
}

/** A secure module written in Kotlin, delegating the MAC to the Rust software provider. */
class KotlinKeyProvider(private val key: ByteArray) : KeyProvider {
    val keyReads = AtomicInteger()

    override fun panHashKey(): ByteArray {
        keyReads.incrementAndGet()
        return key
    }

    override fun mac(data: ByteArray): ByteArray = softwareKeys().use { it.mac(data) }

    /** This module has no master key: it refuses a sign-on's working keys (only the real host sends any). */
    override fun installWorkingKeys(keys: WorkingKeys): Unit =
        throw PosException.Device("KEY_NO_MASTER_KEY", "未灌装终端主密钥", "no terminal master key is loaded")
}

/** The foreign traits: printers and key providers implemented in Kotlin, called from Rust. */
class ForeignTraitsTest {
    @TempDir
    lateinit var dir: Path

    private val paperOut = mapOf(PrinterVendor.SUNMI to 4, PrinterVendor.PAX to 2, PrinterVendor.LANDI to 0xF0)

    @Test
    fun `vendor codes are read by the Rust tables`() {
        val cases = listOf(
            Triple(PrinterVendor.SUNMI, 1, PrinterCondition.READY),
            Triple(PrinterVendor.SUNMI, 4, PrinterCondition.PAPER_OUT),
            Triple(PrinterVendor.SUNMI, 6, PrinterCondition.COVER_OPEN),
            Triple(PrinterVendor.PAX, 0, PrinterCondition.READY),
            Triple(PrinterVendor.PAX, 2, PrinterCondition.PAPER_OUT),
            Triple(PrinterVendor.PAX, -16, PrinterCondition.BUSY),
            Triple(PrinterVendor.LANDI, 0x00, PrinterCondition.READY),
            Triple(PrinterVendor.LANDI, 0xF4, PrinterCondition.PAPER_LOW),
            Triple(PrinterVendor.LANDI, 0xF0, PrinterCondition.PAPER_OUT),
        )
        for ((vendor, code, condition) in cases) {
            val info = describePrinterStatus(DeviceStatus(vendor, code, null))
            assertEquals(condition, info.condition, "$vendor $code")
            assertEquals(condition == PrinterCondition.READY || condition == PrinterCondition.PAPER_LOW, info.canPrint, "$vendor $code")
            assertTrue(info.messageZh.isNotBlank() && info.messageEn.isNotBlank())
        }
    }

    @Test
    fun `PAX paper out keeps the slips queued, and they print once paper is back`() = runBlocking {
        val printer = KotlinVendorPrinter(PrinterVendor.PAX, code = 2)
        softwareKeys().use { keys ->
            PosCore.open(journalIn(dir), keys, printer).use { pos ->
                val t = pos.preauth(newRequestId(), "66.00", PAN, EXPIRY)
                assertEquals(TxnState.APPROVED, t.state, "the approval does not wait for the printer")
                pos.waitIdle()

                val waiting = pos.show(t.trace)!!
                assertEquals(2, waiting.printJobs.size)
                // The first copy is held for the operator (out of paper); the second waits for it.
                assertEquals(listOf(PrintJobState.HELD, PrintJobState.QUEUED), waiting.printJobs.map { it.state }, "${waiting.printJobs}")
                assertEquals("paper_out", waiting.printJobs[0].heldReason)
                val tried = waiting.printJobs.filter { it.attempts > 0 }
                assertTrue(tried.isNotEmpty(), "${waiting.printJobs}")
                for (job in tried) {
                    val why = job.lastError ?: ""
                    assertTrue(why.contains("paper", ignoreCase = true) && why.contains("缺纸"), "lastError: $why")
                    assertTrue(why.contains("Pax 2"), "the raw code is kept: $why")
                }
                assertTrue(printer.printed.isEmpty())
                val caller = Thread.currentThread().name
                assertTrue(printer.threads.none { it == caller }, "device calls come on the core's threads: ${printer.threads}")

                printer.code = 0 // paper loaded
                // Held slips resume by themselves once the printer's status reads ready.
                val done = pos.awaitTransaction(t.trace, timeoutMs = 20_000) { tx -> tx.printJobs.all { it.state == PrintJobState.PRINTED } }
                assertEquals(listOf(2, 1), done.printJobs.map { it.attempts }, "${done.printJobs}")
                assertTrue(done.printJobs.all { !it.reprint && it.heldReason == null && it.printedAtMs != null }, "${done.printJobs}")
                assertEquals(setOf("merchant", "cardholder"), printer.printed.map { it.copy }.toSet())
                assertEquals(2, printer.printed.size, "each copy printed once")
                assertTrue(printer.printed.all { slip -> slip.lines.none { it.contains(PAN) } })
                assertEquals(0, pos.recover().slipsUnprinted)
            }
        }
    }

    @Test
    fun `Sunmi and Landi printers print when ready or low on paper, and queue when out`() = runBlocking {
        softwareKeys().use { keys ->
            for ((vendor, okCode) in listOf(PrinterVendor.SUNMI to 1, PrinterVendor.LANDI to 0xF4)) {
                val printer = KotlinVendorPrinter(vendor, code = okCode)
                PosCore.open(journalIn(dir, "$vendor-ok.db"), keys, printer).use { pos ->
                    val t = pos.preauth(newRequestId(), "12.00", PAN, EXPIRY)
                    pos.waitIdle()
                    assertTrue(pos.show(t.trace)!!.printJobs.all { it.state == PrintJobState.PRINTED }, "$vendor $okCode")
                    assertEquals(listOf("merchant", "cardholder"), printer.printed.map { it.copy })
                }
                val out = KotlinVendorPrinter(vendor, code = paperOut.getValue(vendor))
                PosCore.open(journalIn(dir, "$vendor-out.db"), keys, out).use { pos ->
                    val t = pos.preauth(newRequestId(), "12.00", PAN, EXPIRY)
                    pos.waitIdle()
                    val jobs = pos.show(t.trace)!!.printJobs
                    assertEquals(listOf(PrintJobState.HELD, PrintJobState.QUEUED), jobs.map { it.state }, "$vendor: $jobs")
                    assertTrue(jobs.any { it.attempts > 0 }, "$vendor: $jobs")
                    assertTrue(jobs.filter { it.attempts > 0 }.all { it.lastError!!.contains("out of paper") }, "$vendor: $jobs")
                    // The status is read first, and a printer known to be out of paper gets no job.
                    assertTrue(out.statusReads.get() > 0 && out.calls.get() == 0 && out.printed.isEmpty(), "$vendor")
                }
            }
        }
    }

    @Test
    fun `a printer callback that throws keeps the slip queued with the reason`() = runBlocking {
        val broken = object : PrinterDevice {
            override fun print(slip: Slip): DeviceStatus = throw IllegalStateException("usb printer unplugged")
            override fun status(): DeviceStatus = throw IllegalStateException("usb printer unplugged")
        }
        softwareKeys().use { keys ->
            PosCore.open(journalIn(dir), keys, broken).use { pos ->
                val t = pos.preauth(newRequestId(), "9.00", PAN, EXPIRY)
                assertEquals(TxnState.APPROVED, t.state)
                pos.waitIdle()
                val jobs = pos.show(t.trace)!!.printJobs
                assertTrue(jobs.all { it.state == PrintJobState.QUEUED }, "$jobs")
                assertTrue(jobs.any { it.attempts > 0 }, "$jobs")
                assertTrue(jobs.filter { it.attempts > 0 }.all { it.lastError!!.contains("usb printer unplugged") }, "$jobs")
            }
        }
    }

    @Test
    fun `a printer callback may close the terminal`() = runBlocking {
        val baseline = liveTerminalCount()
        val closedIn = CompletableDeferred<Result<Unit>>()
        lateinit var pos: PosCore
        val closing = object : PrinterDevice {
            override fun print(slip: Slip): DeviceStatus {
                if (!closedIn.isCompleted) closedIn.complete(runCatching { pos.close() })
                return DeviceStatus(PrinterVendor.SOFTWARE, 0, null)
            }
            override fun status(): DeviceStatus = DeviceStatus(PrinterVendor.SOFTWARE, 0, null)
        }
        softwareKeys().use { keys ->
            pos = PosCore.open(journalIn(dir), keys, closing)
            assertEquals(TxnState.APPROVED, pos.preauth(newRequestId(), "4.00", PAN, EXPIRY).state)
            val result = withTimeout(10_000) { closedIn.await() }
            assertTrue(result.isSuccess, "close() from the printer's thread: $result")
            assertFalse(pos.isOpen)
            assertFailsWith<PosException.Closed> { pos.waitIdle() }
        }
        withTimeout(10_000) { while (liveTerminalCount() != baseline) delay(10) }
    }

    @Test
    fun `a Kotlin key provider is used, and its failures come back typed`() = runBlocking {
        SoftwarePrinter().use { printer ->
            val keys = KotlinKeyProvider(ByteArray(32) { it.toByte() })
            PosCore.open(journalIn(dir), keys, printer).use { pos ->
                assertEquals(1, keys.keyReads.get())
                val t = pos.preauth(newRequestId(), "7.00", PAN, EXPIRY)
                assertEquals(TxnState.APPROVED, t.state)
            }
            assertEquals(8, keys.mac("0200 message".toByteArray()).size)

            val baseline = liveTerminalCount()
            val short = assertFailsWith<PosException.InvalidInput> { PosCore.open(journalIn(dir, "short.db"), KotlinKeyProvider(ByteArray(8)), printer) }
            assertBilingual(short, "KEY_LENGTH")

            val locked = object : KeyProvider {
                override fun panHashKey(): ByteArray = throw IllegalStateException("secure module locked")
                override fun mac(data: ByteArray): ByteArray = throw IllegalStateException("secure module locked")
                override fun installWorkingKeys(keys: WorkingKeys): Unit = throw IllegalStateException("secure module locked")
            }
            val device = assertFailsWith<PosException.Device> { PosCore.open(journalIn(dir, "locked.db"), locked, printer) }
            assertBilingual(device, "DEVICE_CALLBACK")
            assertTrue(device.messageEn.contains("secure module locked"), device.messageEn)

            val refused = object : KeyProvider {
                override fun panHashKey(): ByteArray = throw PosException.Device("KEY_MODULE", "密钥模块未就绪", "key module not ready")
                override fun mac(data: ByteArray): ByteArray = ByteArray(8)
                override fun installWorkingKeys(keys: WorkingKeys) = Unit
            }
            val typed = assertFailsWith<PosException.Device> { PosCore.open(journalIn(dir, "typed.db"), refused, printer) }
            assertBilingual(typed, "KEY_MODULE")
            assertEquals(baseline, liveTerminalCount())
        }
    }
}
