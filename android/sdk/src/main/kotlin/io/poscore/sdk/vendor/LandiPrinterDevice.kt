package io.poscore.sdk.vendor

import android.os.RemoteException
import com.usdk.apiservice.aidl.printer.AlignMode
import com.usdk.apiservice.aidl.printer.OnPrintListener
import com.usdk.apiservice.aidl.printer.UPrinter
import io.poscore.ffi.DeviceStatus
import io.poscore.ffi.PosException
import io.poscore.ffi.PrinterDevice
import io.poscore.ffi.PrinterVendor
import io.poscore.ffi.Slip

/**
 * The built-in printer of Landi terminals (and Ingenico APOS models on the same service),
 * through the **uSDK** device service: `com.usdk.apiservice.aidl.printer.UPrinter`.
 *
 * This is one concrete member of the Landi-family "0xF0" printer interfaces; Verifone's
 * `com.vfi.smartpos.deviceservice.aidl.IPrinter` and the Chinese bank device services share
 * its model and status codes, and an adapter for them differs only in the class names.
 *
 * A job is one `addText(AlignMode.LEFT, line)` per line, `feedLine(n)`, then
 * `startPrint(listener)`; the listener gets `onFinish()` or `onError(code)`. After
 * `onFinish()` the raw `getStatus()` code is returned (0x00 OK, 0xF4 paper low, …); after
 * `onError(code)` that code is returned (0xF0 paper ended, 0xF3 overheat, 0xEE paper jam, …).
 * The core maps both with its Landi table. An `onError` whose code the core would read as
 * printable (e.g. 0xF4) is returned as [SoftwareFault.JOB_FAILED] instead: the job did not
 * finish, so it must not count as printed.
 *
 * **Watchdog.** A job waits at most [resultTimeoutMs] for the listener; then the printer's
 * status is returned if it explains the failure, else [SoftwareFault.NO_CONFIRMATION]. Keep
 * it below the core's own 60 s printer watchdog.
 *
 * @param printer uSDK's printer: bind `com.usdk.apiservice` (action `com.usdk.apiservice`),
 *   `register(…)` the app with `UDeviceService`, then
 *   `UPrinter.Stub.asInterface(deviceService.getPrinter())`. The OEM's integration owns that
 *   binding; this adapter only prints.
 */
class LandiPrinterDevice @JvmOverloads constructor(
    private val printer: UPrinter,
    private val resultTimeoutMs: Long = DEFAULT_RESULT_TIMEOUT_MS,
    private val feedLines: Int = DEFAULT_FEED_LINES,
) : PrinterDevice {

    private val jobLock = Any()

    override fun print(slip: Slip): DeviceStatus = synchronized(jobLock) { printLocked(slip) }

    private fun printLocked(slip: Slip): DeviceStatus {
        val before = status()
        if (!before.isPrintable()) return before

        val result = JobResult<Outcome>()
        val listener = object : OnPrintListener.Stub() {
            override fun onFinish() = result.complete(Outcome.Finished)
            override fun onError(error: Int) = result.complete(Outcome.Failed(error))
        }
        try {
            for (line in slip.lines) printer.addText(AlignMode.LEFT, line)
            printer.feedLine(feedLines)
            printer.startPrint(listener)
        } catch (e: RemoteException) {
            return explainFailure(SoftwareFault.JOB_FAILED, "uSDK call failed: $e") { status() }
        }

        return when (val outcome = result.await(resultTimeoutMs)) {
            null -> explainFailure(SoftwareFault.NO_CONFIRMATION, "no onFinish/onError within $resultTimeoutMs ms") { status() }
            Outcome.Finished -> try {
                status().copy(detail = "onFinish()")
            } catch (e: PosException) {
                SoftwareFault.status(SoftwareFault.STATUS_UNREADABLE, "printed (onFinish), but the status is unreadable: ${e.message}")
            }
            is Outcome.Failed -> {
                val reported = DeviceStatus(PrinterVendor.LANDI, outcome.code, "onError(0x%02X)".format(outcome.code))
                if (reported.isPrintable()) {
                    SoftwareFault.status(SoftwareFault.JOB_FAILED, "onError(0x%02X): the job did not finish".format(outcome.code))
                } else {
                    reported
                }
            }
        }
    }

    override fun status(): DeviceStatus = try {
        DeviceStatus(PrinterVendor.LANDI, printer.getStatus(), null)
    } catch (e: RemoteException) {
        throw deviceException(
            "PRINTER_SERVICE",
            "无法读取联迪打印机状态：签购单将自动补打；如持续出现请重启终端",
            "cannot read the Landi printer status; the slip will print by itself; restart the terminal if this persists",
            e,
        )
    }

    private sealed interface Outcome {
        data object Finished : Outcome
        data class Failed(val code: Int) : Outcome
    }

    /** Defaults. */
    companion object {
        /** The default watchdog for the print listener, in ms (below the core's 60 s). */
        const val DEFAULT_RESULT_TIMEOUT_MS: Long = 30_000

        /** The default blank lines fed after a slip. */
        const val DEFAULT_FEED_LINES: Int = 3
    }
}
