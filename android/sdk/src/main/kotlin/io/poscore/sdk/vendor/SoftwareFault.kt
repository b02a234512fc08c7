package io.poscore.sdk.vendor

import io.poscore.ffi.DeviceStatus
import io.poscore.ffi.PosException
import io.poscore.ffi.PrinterVendor
import io.poscore.ffi.describePrinterStatus
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit

/**
 * The `SOFTWARE`-vendor codes a vendor adapter returns when the device gave no status code
 * that tells the truth about a job: the vendor's own code is then unknown or says "normal"
 * although the job did not print.
 *
 * Any non-zero `SOFTWARE` code is a fault for the core (`rust/ffi/src/printer.rs`): the slip
 * stays queued and is printed again later, so an unconfirmed slip is never counted as
 * printed. The [DeviceStatus.detail] says what happened.
 */
object SoftwareFault {
    /** The job's result callback never came within the adapter's watchdog. */
    const val NO_CONFIRMATION: Int = 1001

    /** The SDK said the job failed, but the printer's status reads normal. */
    const val JOB_FAILED: Int = 1002

    /** The printer's status could not be read (service gone, remote exception). */
    const val STATUS_UNREADABLE: Int = 1003

    /** A `SOFTWARE` status with [code] (one of the constants above) and [detail]. */
    @JvmStatic
    fun status(code: Int, detail: String): DeviceStatus = DeviceStatus(PrinterVendor.SOFTWARE, code, detail)
}

/**
 * Whether the core counts a job as printed in this status. The decision is Rust's (its
 * vendor tables, `describePrinterStatus`); adapters never map codes themselves.
 */
internal fun DeviceStatus.isPrintable(): Boolean = describePrinterStatus(this).canPrint

/**
 * The status to return for a job that did not confirm: the device's own status when it
 * explains the failure (e.g. out of paper), else a `SOFTWARE` fault [code] with [detail].
 */
internal inline fun explainFailure(code: Int, detail: String, readStatus: () -> DeviceStatus): DeviceStatus {
    val now = try {
        readStatus()
    } catch (e: Exception) {
        return SoftwareFault.status(SoftwareFault.STATUS_UNREADABLE, "$detail; status unreadable: $e")
    }
    return if (now.isPrintable()) {
        SoftwareFault.status(code, "$detail; the printer reports ${now.vendor} ${now.rawCode}")
    } else {
        now.copy(detail = listOfNotNull(detail, now.detail).joinToString("; "))
    }
}

/** A device failure the core keeps the job queued for; both languages, with what to do. */
internal fun deviceException(code: String, zh: String, en: String, cause: Throwable? = null): PosException.Device =
    PosException.Device(code, zh, en).also { if (cause != null) it.initCause(cause) }

/** One job's result from a vendor callback on a binder thread, awaited with a watchdog. */
internal class JobResult<T : Any> {
    private val latch = CountDownLatch(1)

    @Volatile
    private var value: T? = null

    /** Sets the result once; later calls are ignored. */
    fun complete(result: T) {
        synchronized(this) {
            if (value != null) return
            value = result
        }
        latch.countDown()
    }

    /** The result, or `null` if none came within [timeoutMs]. */
    fun await(timeoutMs: Long): T? {
        val interrupted = try {
            latch.await(timeoutMs, TimeUnit.MILLISECONDS)
            false
        } catch (_: InterruptedException) {
            true
        }
        if (interrupted) Thread.currentThread().interrupt()
        return value
    }
}
