package io.poscore.sdk.vendor

import android.content.Context
import com.pax.dal.IPrinter
import com.pax.dal.entity.EFontTypeAscii
import com.pax.dal.entity.EFontTypeExtCode
import com.pax.dal.exceptions.PrinterDevException
import com.pax.neptunelite.api.NeptuneLiteUser
import io.poscore.ffi.DeviceStatus
import io.poscore.ffi.PosException
import io.poscore.ffi.PrinterDevice
import io.poscore.ffi.PrinterVendor
import io.poscore.ffi.Slip

/**
 * The built-in printer of PAX terminals (A920, A930, A80 …), through PAX's NeptuneLite
 * device access layer ([IPrinter]).
 *
 * A job is `init()`, `fontSet(…)`, one `printStr(line, charset)` per line, `step(px)`, then
 * `start()`, which prints synchronously and returns PAX's status code (0 success, 2 out of
 * paper, 8 overheat, 9 low voltage, 240 unfinished, …): that raw code is returned, and the
 * core maps it with its PAX table. [status] is `getStatus()`, same codes.
 *
 * Before each job the printer's status is read; a printer that cannot print gets no job and
 * its status is returned. A [PrinterDevException] (NeptuneLite's own error table, not the
 * status codes) during a job returns the printer's status when it explains the failure, else
 * [SoftwareFault.JOB_FAILED]; either way the core keeps the slip queued.
 *
 * The fonts default to 12×24 ASCII and 24×24 CJK: 32 columns on 58 mm paper, the width the
 * core lays slips out for (one CJK character = two columns). Calls come on the core's
 * threads, one job at a time.
 *
 * @param printer NeptuneLite's printer: `NeptuneLiteUser.getInstance().getDal(context).printer`
 *   (or [fromContext]).
 * @param charset the encoding `printStr` uses; `GB18030` covers every Chinese character the
 *   printer's font has. `null` uses the terminal's default.
 * @param feedPixels paper fed after the slip, in pixel rows, so it clears the tear bar.
 */
class PaxPrinterDevice @JvmOverloads constructor(
    private val printer: IPrinter,
    private val charset: String? = DEFAULT_CHARSET,
    private val feedPixels: Int = DEFAULT_FEED_PIXELS,
    private val asciiFont: EFontTypeAscii = EFontTypeAscii.FONT_12_24,
    private val cjkFont: EFontTypeExtCode = EFontTypeExtCode.FONT_24_24,
) : PrinterDevice {

    private val jobLock = Any()

    override fun print(slip: Slip): DeviceStatus = synchronized(jobLock) { printLocked(slip) }

    private fun printLocked(slip: Slip): DeviceStatus {
        val before = status()
        if (!before.isPrintable()) return before
        val code = try {
            printer.init()
            printer.fontSet(asciiFont, cjkFont)
            for (line in slip.lines) printer.printStr(line + "\n", charset)
            printer.step(feedPixels)
            printer.start()
        } catch (e: PrinterDevException) {
            return explainFailure(SoftwareFault.JOB_FAILED, "NeptuneLite ${describe(e)}") { status() }
        }
        return DeviceStatus(PrinterVendor.PAX, code, "start()")
    }

    override fun status(): DeviceStatus = try {
        DeviceStatus(PrinterVendor.PAX, printer.getStatus(), null)
    } catch (e: PrinterDevException) {
        throw deviceException(
            "PRINTER_SERVICE",
            "无法读取百富打印机状态（${describe(e)}）：签购单将自动补打；如持续出现请重启终端",
            "cannot read the PAX printer status (${describe(e)}); the slip will print by itself; restart the terminal if this persists",
            e,
        )
    }

    private fun describe(e: PrinterDevException): String =
        runCatching { "PrinterDevException ${e.errCode}: ${e.errMsg}" }.getOrElse { "PrinterDevException: ${e.message}" }

    /** Creating the adapter. */
    companion object {
        /** The default `printStr` charset. */
        const val DEFAULT_CHARSET: String = "GB18030"

        /** The default paper feed after a slip, in pixel rows (about 15 mm at 8 dots/mm). */
        const val DEFAULT_FEED_PIXELS: Int = 120

        /**
         * The adapter over this terminal's printer, from NeptuneLite's device access layer.
         * Blocking (NeptuneLite binds PAX's service): call it off the main thread.
         *
         * @throws PosException.Device if NeptuneLite is missing or refuses (not a PAX device).
         */
        @JvmStatic
        fun fromContext(context: Context): PaxPrinterDevice {
            val printer = try {
                NeptuneLiteUser.getInstance().getDal(context.applicationContext).printer
            } catch (e: Exception) {
                throw deviceException(
                    "PRINTER_BIND",
                    "无法连接百富打印机（NeptuneLite）：本机不是百富终端或 NeptuneLite 未就绪",
                    "cannot reach the PAX printer (NeptuneLite): not a PAX terminal, or NeptuneLite is not ready",
                    e,
                )
            } ?: throw deviceException("PRINTER_BIND", "本机没有打印机", "this terminal has no printer")
            return PaxPrinterDevice(printer)
        }
    }
}
