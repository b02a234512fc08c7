package io.poscore.app

import android.app.AlertDialog
import android.content.Intent
import android.os.Bundle
import android.widget.TextView
import io.poscore.ffi.PosException
import io.poscore.ffi.RecoveryInfo
import io.poscore.sdk.newRequestId

/**
 * The cashier's home screen: the pre-authorization operations, reprint/slips, settlement,
 * printer status and diagnosis. On first start it opens the terminal (recovery runs inside)
 * and says what recovery did after an interrupted run.
 */
class HomeActivity : BaseActivity() {
    private lateinit var status: TextView
    private lateinit var warning: TextView

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        title = getString(R.string.home_title)
        val page = page()
        page.heading(getString(R.string.home_title))
        status = page.text(getString(R.string.home_opening))
        warning = page.errorText()
        page.button(getString(R.string.action_preauth)) { startActivity(EntryActivity.intent(this, EntryActivity.Mode.PREAUTH)) }
        page.button(getString(R.string.action_complete)) { startActivity(EntryActivity.intent(this, EntryActivity.Mode.COMPLETE)) }
        page.button(getString(R.string.action_void)) { startActivity(EntryActivity.intent(this, EntryActivity.Mode.VOID)) }
        page.button(getString(R.string.action_complete_void)) {
            startActivity(EntryActivity.intent(this, EntryActivity.Mode.COMPLETE_VOID))
        }
        page.button(getString(R.string.action_reprint)) { startActivity(Intent(this, HistoryActivity::class.java)) }
        page.button(getString(R.string.action_settle)) { confirmSettle() }
        page.button(getString(R.string.action_printer_status)) { checkPrinter() }
        page.button(getString(R.string.action_diagnosis)) { startActivity(Intent(this, DiagnosisActivity::class.java)) }
        start()
    }

    private fun start() = launchUi {
        val opened = try {
            holder.get()
        } catch (e: PosException) {
            status.text = getString(R.string.home_open_failed)
            throw e
        }
        val ready = getString(R.string.home_ready, opened.printerName)
        if (opened.softwarePrinter) warning.showError(getString(R.string.home_software_printer_warning))
        val info = opened.recovery ?: run {
            status.text = ready + "\n" + getString(R.string.home_recovering)
            opened.core.recover().also { opened.recovery = it }
        }
        status.text = ready + summary(info)
    }

    private fun summary(info: RecoveryInfo): String = buildString {
        if (info.madeUnknown + info.madeNotSent + info.printJobsRequeued > 0) {
            append('\n').append(getString(R.string.home_recovered, info.madeUnknown, info.madeNotSent, info.printJobsRequeued))
        }
        if (info.reversalsPending + info.reversalsFailed + info.slipsUnprinted > 0) {
            append('\n').append(getString(R.string.home_still_open, info.reversalsPending, info.reversalsFailed, info.slipsUnprinted))
        }
    }

    private fun confirmSettle() {
        AlertDialog.Builder(this)
            .setTitle(R.string.settle_confirm_title)
            .setMessage(R.string.settle_confirm_message)
            .setNegativeButton(R.string.dialog_cancel, null)
            .setPositiveButton(R.string.action_settle) { _, _ -> settle() }
            .show()
    }

    private fun settle() = launchUi {
        status.text = getString(R.string.settle_running)
        val opened = holder.get()
        // A fresh request id per settlement the operator confirms.
        val settlement = opened.core.settle(newRequestId("settle"))
        status.text = getString(R.string.home_ready, opened.printerName)
        val totals = getString(
            R.string.settle_done,
            settlement.batch,
            settlement.count,
            formatMinor(settlement.amountMinor),
            settlement.nextBatch,
        )
        val balance = getString(if (settlement.balanced) R.string.settle_balanced else R.string.settle_unbalanced)
        Faults.dialog(this@HomeActivity, getString(R.string.action_settle), "$totals\n$balance")
    }

    private fun checkPrinter() = launchUi {
        PrinterCheck.showStatus(this@HomeActivity, holder.get())
    }
}
