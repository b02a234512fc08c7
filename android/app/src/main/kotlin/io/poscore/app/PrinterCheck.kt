package io.poscore.app

import android.app.Activity
import io.poscore.ffi.PrinterStatusInfo
import io.poscore.ffi.describePrinterStatus
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

/** Asking the printer for its status, and explaining it (the core maps the vendor's code). */
object PrinterCheck {
    /**
     * The printer's status now, explained. The vendor call may block, so it runs on
     * `Dispatchers.IO`.
     *
     * @throws io.poscore.ffi.PosException.Device if the printer cannot be asked.
     */
    suspend fun status(opened: CoreHolder.Opened): PrinterStatusInfo = withContext(Dispatchers.IO) {
        describePrinterStatus(opened.printer.status())
    }

    /** Shows the printer's status in a dialog: ready, or the fault with what to do in both languages. */
    suspend fun showStatus(activity: Activity, opened: CoreHolder.Opened) {
        val info = status(opened)
        val remedy = Texts.bilingual(activity, info.messageZh, info.messageEn)
        if (info.canPrint) {
            Faults.dialog(activity, activity.getString(R.string.printer_status_title), activity.getString(R.string.printer_ready) + "\n" + remedy)
        } else {
            Faults.dialog(activity, activity.getString(R.string.printer_fault_title), remedy)
        }
    }
}
