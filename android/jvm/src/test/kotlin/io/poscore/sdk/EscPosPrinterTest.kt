package io.poscore.sdk

import io.poscore.ffi.DeviceStatus
import io.poscore.ffi.PaperState
import io.poscore.ffi.PaperSize
import io.poscore.ffi.PosException
import io.poscore.ffi.PrinterCondition
import io.poscore.ffi.PrinterVendor
import io.poscore.ffi.defaultEscposProfile
import io.poscore.ffi.describePrinterStatus
import io.poscore.ffi.escposPrintSelfTest
import io.poscore.ffi.escposPrinterStatus
import io.poscore.ffi.selfTestEscposBytes
import java.io.BufferedReader
import java.io.File
import java.io.InputStreamReader
import java.net.Socket
import java.nio.file.Path
import java.util.concurrent.TimeUnit
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.api.io.TempDir

/**
 * The ESC/POS functions of the bindings against `poscore printer-sim`, a virtual Epson-class
 * printer over real TCP on 127.0.0.1: status (DLE EOT), faults, and the self-test page, which
 * counts as printed only when the printer confirms it.
 */
class EscPosPrinterTest {
    @TempDir
    lateinit var dir: Path

    private lateinit var sim: Process
    private lateinit var printer: String
    private lateinit var control: String

    @BeforeEach
    fun startSimulator() {
        val cli = System.getProperty("poscore.cli") ?: error("system property poscore.cli (the poscore binary) is not set")
        check(File(cli).canExecute()) { "$cli not found: build it with `cargo build -p poscore-cli`" }
        sim = ProcessBuilder(cli, "printer-sim", "--listen", "127.0.0.1:0", "--control", "127.0.0.1:0", "--png-dir", dir.resolve("pages").toString())
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start()
        val first = BufferedReader(InputStreamReader(sim.inputStream)).readLine() ?: error("printer-sim printed nothing")
        // "printer-sim listening on 127.0.0.1:P control 127.0.0.1:Q"
        val words = first.split(" ")
        printer = words[words.indexOf("on") + 1]
        control = words[words.indexOf("control") + 1]
    }

    @AfterEach
    fun stopSimulator() {
        sim.destroy()
        sim.waitFor(10, TimeUnit.SECONDS)
    }

    /** Sends one control command to the simulator and returns its one-line answer. */
    private fun tell(command: String): String {
        val (host, port) = control.split(":")
        Socket(host, port.toInt()).use { socket ->
            socket.getOutputStream().write("$command\n".toByteArray())
            return BufferedReader(InputStreamReader(socket.getInputStream())).readLine()
        }
    }

    @Test
    fun `status follows the printer through a fault and back`() = runBlocking {
        val ready = escposPrinterStatus(printer, defaultEscposProfile(), 3_000u)
        assertEquals(PrinterCondition.READY, ready.condition)
        assertTrue(ready.canPrint && ready.online && ready.paper == PaperState.OK && !ready.coverOpen)

        assertEquals("ok", tell("inject now paper-out"))
        val out = escposPrinterStatus(printer, defaultEscposProfile(), 3_000u)
        assertEquals(PrinterCondition.PAPER_OUT, out.condition)
        assertEquals(PaperState.OUT, out.paper)
        assertFalse(out.canPrint || out.online)
        assertTrue(out.messageZh.contains("缺纸") && out.messageEn.contains("out of paper"), out.toString())

        assertEquals("ok", tell("clear"))
        assertEquals("ok", tell("inject now cover-open"))
        assertEquals(PrinterCondition.COVER_OPEN, escposPrinterStatus(printer, defaultEscposProfile(), 3_000u).condition)
    }

    @Test
    fun `the self-test page is refused into a fault and confirmed once the fault clears`() = runBlocking {
        assertEquals("ok", tell("inject now paper-out"))
        val refused = assertThrows<PosException.Device> { runBlocking { escposPrintSelfTest(printer, defaultEscposProfile(), 3_000u) } }
        assertEquals("PRINTER_PAPER_OUT", refused.code)
        assertTrue(refused.messageZh.contains("缺纸"), refused.messageZh)
        assertTrue(tell("status").contains("\"confirmed\":0"), "nothing confirmed while out of paper")

        assertEquals("ok", tell("clear"))
        val report = escposPrintSelfTest(printer, defaultEscposProfile(), 5_000u)
        assertTrue(report.bytesSent > 500u, "a whole page went out: $report")
        val status = tell("status")
        assertTrue(status.contains("\"confirmed\":1") && status.contains("\"pages\":1"), status)
        val png = dir.resolve("pages").toFile().listFiles()?.filter { it.name.endsWith(".png") }.orEmpty()
        assertEquals(1, png.size, "one page rendered: $png")
    }

    @Test
    fun `the self-test page as bytes, for a vendor SDK's raw call`() {
        val bytes = selfTestEscposBytes(defaultEscposProfile().copy(paper = PaperSize.MM80))
        assertEquals(listOf<Byte>(0x1B, 0x40), bytes.take(2), "starts with ESC @")
        val hex = bytes.joinToString("") { "%02x".format(it) }
        assertTrue(hex.contains("1c26"), "Chinese mode (FS &) for GB18030")
        assertTrue(hex.contains("1d286b"), "a native QR code (GS ( k)")
        assertTrue(hex.contains("1d56"), "a cut (GS V)")
    }

    @Test
    fun `a bad address and an unknown vendor code are clear errors`() = runBlocking {
        val bad = assertThrows<PosException.InvalidInput> { runBlocking { escposPrinterStatus("tcp:", defaultEscposProfile(), 1_000u) } }
        assertEquals("PRINTER_ADDRESS", bad.code)
        assertTrue(bad.messageEn.contains("HOST:PORT"), bad.messageEn)

        val unknown = describePrinterStatus(DeviceStatus(PrinterVendor.LAKALA, 0x2A, null))
        assertEquals(PrinterCondition.UNKNOWN, unknown.condition)
        assertFalse(unknown.canPrint)
        assertTrue(unknown.messageEn.contains("unknown fault (code 42)"), unknown.messageEn)
        assertEquals(PrinterCondition.PAPER_OUT, describePrinterStatus(DeviceStatus(PrinterVendor.LAKALA, 0xF0, null)).condition)
    }

    @Test
    fun `an unreachable printer is a communication error, not a hang`() = runBlocking {
        val closed = java.net.ServerSocket(0).use { it.localPort }
        val error = assertThrows<PosException.Device> { runBlocking { escposPrinterStatus("127.0.0.1:$closed", defaultEscposProfile(), 1_000u) } }
        assertEquals("PRINTER_COMMUNICATION_ERROR", error.code)
    }
}
