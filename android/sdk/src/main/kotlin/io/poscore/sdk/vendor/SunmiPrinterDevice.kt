package io.poscore.sdk.vendor

import android.content.Context
import android.os.RemoteException
import com.sunmi.peripheral.printer.InnerPrinterCallback
import com.sunmi.peripheral.printer.InnerPrinterException
import com.sunmi.peripheral.printer.InnerPrinterManager
import com.sunmi.peripheral.printer.InnerResultCallback
import com.sunmi.peripheral.printer.SunmiPrinterService
import io.poscore.ffi.DeviceStatus
import io.poscore.ffi.PosException
import io.poscore.ffi.PrinterDevice
import io.poscore.ffi.PrinterVendor
import io.poscore.ffi.Slip
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.withTimeoutOrNull

/**
 * The built-in printer of Sunmi terminals (P1/P2/V2/T2 …), through Sunmi's printer library
 * (`com.sunmi:printerlibrary`, `InnerPrinterManager` → [SunmiPrinterService]).
 *
 * Each slip is one job in **transaction mode** — `enterPrinterBuffer(true)`, the slip's
 * ESC/POS bytes with `sendRAWData` (the real layout: signature image, QR code, cut; the
 * text lines when the core sent no bytes), `exitPrinterBufferWithCallback(true, callback)` — because only then does the service say
 * whether the printer really printed (`onPrintResult`: 0 printed, 1 failed); the plain
 * `onRunResult` only says a call ran. The status returned is the raw
 * `updatePrinterState()` code (1 normal, 4 out of paper, 6 cover open, …), which the core
 * maps with its Sunmi table.
 *
 * **Watchdog.** Some models never call `onPrintResult` when the paper runs out (the P1 4G,
 * SunmiPrinterDemo#73). An adapter that waited for it would hang the print queue, so a job
 * waits at most [resultTimeoutMs]; then the printer's state is returned if it explains the
 * failure, else [SoftwareFault.NO_CONFIRMATION]. Either way the core keeps the slip queued.
 * Keep [resultTimeoutMs] below the core's own 60 s printer watchdog.
 *
 * Before each job the printer's state is read; a printer that cannot print (no paper, cover
 * open) gets no job (Sunmi drops a job that hits such a fault), and its state is returned.
 *
 * Create it with [bind] (it binds Sunmi's service and follows reconnects), or [of] with a
 * service you bound yourself. Calls come on the core's threads, one job at a time.
 */
class SunmiPrinterDevice private constructor(
    private val resultTimeoutMs: Long,
) : PrinterDevice, AutoCloseable {

    @Volatile
    private var service: SunmiPrinterService? = null

    @Volatile
    private var connected = CompletableDeferred<Unit>()

    private var binding: Pair<Context, InnerPrinterCallback>? = null
    private val jobLock = Any()

    /** Whether Sunmi's printer service is bound right now. */
    val isConnected: Boolean
        get() = service != null

    /** Waits up to [timeoutMs] for the service; `true` once it is bound. */
    suspend fun awaitConnected(timeoutMs: Long): Boolean =
        isConnected || withTimeoutOrNull(timeoutMs) { connected.await() } != null

    override fun print(slip: Slip): DeviceStatus = synchronized(jobLock) { printLocked(slip) }

    private fun printLocked(slip: Slip): DeviceStatus {
        val printer = requireService()
        val before = readState(printer, "before the job")
        if (!before.isPrintable()) return before

        val result = JobResult<Pair<Int, String?>>()
        val callback = object : InnerResultCallback() {
            override fun onRunResult(isSuccess: Boolean) {
                if (!isSuccess) result.complete(ON_RUN_FAILED to "onRunResult(false)")
            }

            override fun onReturnString(value: String?) = Unit

            override fun onRaiseException(code: Int, msg: String?) {
                result.complete(ON_RAISE_EXCEPTION to "onRaiseException($code, $msg)")
            }

            override fun onPrintResult(code: Int, msg: String?) {
                result.complete(code to msg)
            }
        }
        try {
            printer.enterPrinterBuffer(true)
            if (slip.escpos.isNotEmpty()) {
                printer.sendRAWData(slip.escpos, null)
            } else {
                printer.setAlignment(ALIGN_LEFT, null)
                for (line in slip.lines) printer.printText(line + "\n", null)
                printer.lineWrap(FEED_LINES, null)
            }
            printer.exitPrinterBufferWithCallback(true, callback)
        } catch (e: RemoteException) {
            runCatching { printer.exitPrinterBufferWithCallback(false, null) }
            return explainFailure(SoftwareFault.JOB_FAILED, "Sunmi service call failed: $e") { readState(printer, null) }
        }

        val (code, message) = result.await(resultTimeoutMs)
            ?: return explainFailure(SoftwareFault.NO_CONFIRMATION, "no onPrintResult within $resultTimeoutMs ms") {
                readState(printer, null)
            }
        if (code != PRINT_RESULT_OK) {
            return explainFailure(SoftwareFault.JOB_FAILED, "onPrintResult($code, $message)") { readState(printer, null) }
        }
        return try {
            readState(printer, "onPrintResult(0)")
        } catch (e: PosException) {
            SoftwareFault.status(SoftwareFault.STATUS_UNREADABLE, "printed (onPrintResult 0), but the state is unreadable: ${e.message}")
        }
    }

    override fun status(): DeviceStatus = readState(requireService(), null)

    /** Unbinds the service (when created with [bind]). Later jobs fail until bound again. */
    override fun close() {
        val (context, callback) = synchronized(this) { binding.also { binding = null } } ?: return
        service = null
        try {
            InnerPrinterManager.getInstance().unBindService(context, callback)
        } catch (_: InnerPrinterException) {
        } catch (_: IllegalArgumentException) {
            // Not bound (any more).
        }
    }

    private fun requireService(): SunmiPrinterService =
        service ?: throw deviceException(
            "PRINTER_NOT_CONNECTED",
            "商米打印服务未连接：签购单将自动补打；如持续出现请重启终端",
            "Sunmi printer service not connected; the slip will print by itself; restart the terminal if this persists",
        )

    private fun readState(printer: SunmiPrinterService, detail: String?): DeviceStatus = try {
        DeviceStatus(PrinterVendor.SUNMI, printer.updatePrinterState(), detail)
    } catch (e: RemoteException) {
        throw deviceException(
            "PRINTER_SERVICE",
            "无法读取商米打印机状态：签购单将自动补打；如持续出现请重启终端",
            "cannot read the Sunmi printer state; the slip will print by itself; restart the terminal if this persists",
            e,
        )
    }

    private fun connect(printer: SunmiPrinterService) {
        service = printer
        connected.complete(Unit)
    }

    private fun disconnect() {
        service = null
        if (connected.isCompleted) connected = CompletableDeferred()
    }

    /** Creating the adapter. */
    companion object {
        /** The default watchdog for `onPrintResult`, in ms (below the core's 60 s). */
        const val DEFAULT_RESULT_TIMEOUT_MS: Long = 30_000

        /** `onPrintResult` code of a printed job. */
        private const val PRINT_RESULT_OK = 0
        private const val ON_RUN_FAILED = -1
        private const val ON_RAISE_EXCEPTION = -2
        private const val ALIGN_LEFT = 0
        private const val FEED_LINES = 3

        /**
         * Binds Sunmi's printer service (`woyou.aidlservice.jiuiv5`) and returns the adapter at
         * once; the service arrives shortly after ([awaitConnected]), and again after the
         * service restarts. Jobs before that fail with `PRINTER_NOT_CONNECTED` and stay queued.
         *
         * @throws PosException.Device if the service cannot be bound (not a Sunmi device).
         */
        @JvmStatic
        @JvmOverloads
        fun bind(context: Context, resultTimeoutMs: Long = DEFAULT_RESULT_TIMEOUT_MS): SunmiPrinterDevice {
            val device = SunmiPrinterDevice(resultTimeoutMs)
            val callback = object : InnerPrinterCallback() {
                override fun onConnected(service: SunmiPrinterService) = device.connect(service)
                override fun onDisconnected() = device.disconnect()
            }
            val app = context.applicationContext
            val bound = try {
                InnerPrinterManager.getInstance().bindService(app, callback)
            } catch (e: InnerPrinterException) {
                throw deviceException("PRINTER_BIND", "无法连接商米打印服务", "cannot bind the Sunmi printer service", e)
            }
            if (!bound) {
                throw deviceException(
                    "PRINTER_BIND",
                    "未找到商米打印服务：本机不是商米终端或打印服务未安装",
                    "no Sunmi printer service: not a Sunmi terminal, or its print service is missing",
                )
            }
            synchronized(device) { device.binding = app to callback }
            return device
        }

        /** An adapter over a [service] you bound yourself; [close] does not unbind it. */
        @JvmStatic
        @JvmOverloads
        fun of(service: SunmiPrinterService, resultTimeoutMs: Long = DEFAULT_RESULT_TIMEOUT_MS): SunmiPrinterDevice =
            SunmiPrinterDevice(resultTimeoutMs).also { it.connect(service) }
    }
}
