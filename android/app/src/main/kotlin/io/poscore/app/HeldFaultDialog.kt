package io.poscore.app

import android.app.Activity
import android.app.AlertDialog
import io.poscore.ffi.HoldRemedy

/**
 * The dialog shown while the print queue is held: what to do, in both languages (the core's
 * remedy: "out of paper: load a new roll…", "tear the slip off…"), and a **Continue printing**
 * button for the operator (`PosCore.resumePrinting`). A printer fault also resumes by itself
 * once the printer reports it is ready; the screen then dismisses the dialog.
 */
object HeldFaultDialog {
    /**
     * Shows the dialog for [hold] on [activity] (nothing if the screen is going away);
     * [onContinue] runs when the operator taps Continue printing.
     */
    fun show(activity: Activity, hold: HoldRemedy, onContinue: () -> Unit): AlertDialog? {
        if (activity.isFinishing || activity.isDestroyed) return null
        val title = if (hold.printerFault) R.string.held_title else R.string.held_title_tear_off
        return AlertDialog.Builder(activity)
            .setTitle(title)
            .setMessage(message(activity, hold))
            .setCancelable(false)
            .setNegativeButton(R.string.held_later, null)
            .setPositiveButton(R.string.held_continue) { _, _ -> onContinue() }
            .show()
    }

    /** The remedy in both languages (the operator's first) and the reason's code. */
    fun message(activity: Activity, hold: HoldRemedy): String =
        Texts.bilingual(activity, hold.messageZh, hold.messageEn) + "\n[${hold.reason}]"
}
