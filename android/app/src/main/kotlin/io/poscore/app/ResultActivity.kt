package io.poscore.app

import android.app.AlertDialog
import android.content.Context
import android.content.Intent
import android.graphics.Color
import android.os.Bundle
import android.view.View
import android.widget.Button
import android.widget.ProgressBar
import android.widget.TextView
import io.poscore.ffi.HoldRemedy
import io.poscore.ffi.PrintJobInfo
import io.poscore.ffi.PrintJobState
import io.poscore.ffi.ReversalState
import io.poscore.ffi.TerminalEvent
import io.poscore.ffi.Transaction
import io.poscore.ffi.TxnKind
import io.poscore.ffi.TxnState
import io.poscore.ffi.describeHold
import io.poscore.sdk.newRequestId
import kotlinx.coroutines.flow.onSubscription

/**
 * One transaction, live: its state, its reversal and the printing of its slips, updated from
 * the core's events as they happen (a lost answer turning into a reversal, "copy 1/2", a
 * slip held for paper then printing). A held print queue opens the [HeldFaultDialog] (the
 * remedy in both languages, Continue printing); the cardholder signs here after an approval;
 * the slips can be previewed and reprinted.
 */
class ResultActivity : BaseActivity() {
    private var trace = 0
    private var current: Transaction? = null
    private var faultShown: String? = null

    private lateinit var state: TextView
    private lateinit var warning: TextView
    private lateinit var details: TextView
    private lateinit var slips: TextView
    private lateinit var progress: ProgressBar
    private lateinit var slipRows: TextView
    private lateinit var fault: TextView
    private lateinit var checkPrinter: Button
    private lateinit var sign: Button
    private lateinit var signed: TextView
    private lateinit var printProgress: TextView

    /** The held-queue dialog on screen, and the hold it is for. */
    var heldDialog: AlertDialog? = null
        private set
    private var heldFor: String? = null

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        trace = intent.getIntExtra(EXTRA_TRACE, 0)
        title = getString(R.string.result_title)
        val page = page()
        state = page.statusLine().apply { text = getString(R.string.result_loading) }
        warning = page.errorText()
        details = page.text()
        slips = page.text()
        progress = page.progress(max = 1)
        slipRows = page.text(sizeSp = 14f)
        printProgress = page.text(sizeSp = 14f).apply {
            id = R.id.print_progress
            visibility = View.GONE
        }
        fault = page.errorText()
        checkPrinter = page.button(getString(R.string.printer_check)) { launchUi { PrinterCheck.showStatus(this@ResultActivity, holder.get()) } }
            .apply { visibility = View.GONE }
        sign = page.button(getString(R.string.result_sign)) { startActivity(SignatureActivity.intent(this, trace)) }
            .apply { visibility = View.GONE }
        signed = page.text(sizeSp = 14f).apply { visibility = View.GONE }
        page.button(getString(R.string.result_preview)) { startActivity(SlipPreviewActivity.intent(this, trace)) }
        page.button(getString(R.string.result_reprint)) { reprint() }
        page.button(getString(R.string.result_done)) { finish() }
        watch()
    }

    override fun onResume() {
        super.onResume()
        current?.let(::render)
    }

    /** Follows the transaction: subscribe first, then read it, so no change is missed. */
    private fun watch() = launchUi {
        val core = holder.get().core
        core.events
            .onSubscription {
                val found = core.show(trace)
                if (found != null) render(found) else state.text = getString(R.string.result_not_found, trace)
            }
            .collect { event ->
                val now = current
                when (event) {
                    is TerminalEvent.TransactionChanged ->
                        if (event.transaction.trace == trace) render(event.transaction)
                    is TerminalEvent.PrintJobChanged ->
                        if (event.trace == trace && now != null) render(now.copy(printJobs = now.printJobs.with(event.job)))
                    is TerminalEvent.ReversalChanged ->
                        if (event.trace == trace && now != null) {
                            val visible = event.reversal.takeUnless { it.state == ReversalState.DISARMED || it.state == ReversalState.CANCELLED }
                            render(now.copy(reversal = visible))
                        }
                    is TerminalEvent.PrintProgress -> if (event.trace == trace) {
                        val copy = Texts.copy(this@ResultActivity, event.copy, reprint = false)
                        val format = if (event.reprint) R.string.progress_copy_reprint else R.string.progress_copy
                        progressText(getString(format, copy, event.number, event.of))
                    }
                    is TerminalEvent.PrintingHeld ->
                        showHeld(HoldRemedy(event.reason, event.reason != TEAR_OFF, event.messageZh, event.messageEn))
                    is TerminalEvent.PrintingResumed -> {
                        dismissHeld()
                        progressText(getString(R.string.progress_resumed))
                    }
                    is TerminalEvent.ElectronicReceipt -> if (event.trace == trace) {
                        progressText(getString(R.string.progress_e_receipt, Texts.copy(this@ResultActivity, event.copy, reprint = false), event.why))
                    }
                    is TerminalEvent.SignOnRequired, is TerminalEvent.Settled, is TerminalEvent.SettlementSlip -> Unit
                }
            }
    }

    private fun progressText(text: String) {
        printProgress.text = text
        printProgress.visibility = View.VISIBLE
    }

    /** Shows the held-queue dialog for [hold], unless one is up for it already. */
    private fun showHeld(hold: HoldRemedy) {
        if (heldFor == hold.reason && heldDialog?.isShowing == true) return
        heldDialog?.dismiss()
        heldFor = hold.reason
        progressText(getString(R.string.progress_held, Texts.bilingual(this, hold.messageZh, hold.messageEn).lineSequence().first()))
        heldDialog = HeldFaultDialog.show(this, hold) { resume() }
    }

    private fun dismissHeld() {
        heldDialog?.dismiss()
        heldDialog = null
        heldFor = null
    }

    /** Continue printing: the held slips go back in the queue. */
    private fun resume() = launchUi {
        heldDialog = null
        val jobs = holder.get().core.resumePrinting(newRequestId("resume"))
        progressText(getString(R.string.held_resumed, jobs))
    }

    private fun reprint() = launchUi {
        val t = holder.get().core.reprint(newRequestId("reprint"), trace, null)
        val job = t.printJobs.last()
        progressText(getString(R.string.result_reprinted, Texts.copy(this@ResultActivity, job.copy, reprint = true)))
        render(t)
    }

    private fun List<PrintJobInfo>.with(job: PrintJobInfo): List<PrintJobInfo> =
        if (any { it.jobId == job.jobId }) map { if (it.jobId == job.jobId) job else it } else this + job

    private fun render(t: Transaction) {
        current = t
        state.text = Texts.state(this, t.state)
        state.setTextColor(
            when (t.state) {
                TxnState.APPROVED, TxnState.COMPLETED -> Color.rgb(0x1B, 0x5E, 0x20)
                TxnState.DECLINED, TxnState.UNKNOWN, TxnState.NOT_SENT -> Color.rgb(0xB0, 0x00, 0x20)
                else -> Color.DKGRAY
            },
        )
        warning.showError(
            when (t.state) {
                TxnState.UNKNOWN -> getString(R.string.result_unknown_warning)
                TxnState.DECLINED -> getString(R.string.result_declined)
                else -> null
            },
        )
        details.text = buildString {
            append(Texts.kind(this@ResultActivity, t.kind)).append('\n')
            append(getString(R.string.result_amount, t.currency, t.amountText)).append('\n')
            append(getString(R.string.result_card, t.maskedPan)).append('\n')
            append(getString(R.string.result_trace, t.trace, t.batch))
            t.originalTrace?.let { append('\n').append(getString(R.string.result_original, it)) }
            if (t.authCode != null || t.rrn != null) {
                append('\n').append(getString(R.string.result_auth, t.authCode.orEmpty(), t.rrn.orEmpty()))
            }
            t.responseCode?.let { append('\n').append(getString(R.string.result_response, it)) }
            t.reversal?.let {
                append('\n').append(getString(R.string.result_reversal, Texts.reversal(this@ResultActivity, it.state), it.reason, it.attempts))
            }
        }
        renderSlips(t.printJobs)
        val signable = t.state == TxnState.APPROVED && t.kind in SIGNED_KINDS
        val signature = Signatures.get(t.trace)
        sign.visibility = if (signable && signature == null) View.VISIBLE else View.GONE
        signed.visibility = if (signature != null) View.VISIBLE else View.GONE
        if (signature != null) signed.text = getString(R.string.result_signed, signature.strokes.size)
    }

    private fun renderSlips(jobs: List<PrintJobInfo>) {
        val printed = jobs.count { it.state == PrintJobState.PRINTED || it.state == PrintJobState.DELIVERED }
        val visibility = if (jobs.isEmpty()) View.GONE else View.VISIBLE
        slips.visibility = visibility
        progress.visibility = visibility
        slipRows.visibility = visibility
        slips.text = getString(R.string.result_slips, printed, jobs.size)
        progress.max = maxOf(jobs.size, 1)
        progress.progress = printed
        slipRows.text = jobs.joinToString("\n") { job ->
            val copy = Texts.copy(this, job.copy, job.reprint)
            val jobState = Texts.job(this, job.state)
            val error = job.lastError
            if (job.state != PrintJobState.PRINTED && job.state != PrintJobState.DELIVERED && error != null) {
                getString(R.string.result_slip_row_error, copy, jobState, error)
            } else {
                getString(R.string.result_slip_row, copy, jobState)
            }
        }
        // A held slip opens the held dialog (a screen opened after the PrintingHeld event
        // reads the hold from the slip); a slip being retried shows the printer's status.
        val held = jobs.firstOrNull { it.state == PrintJobState.HELD }?.heldReason
        if (held != null && heldFor == null) showHeld(describeHold(held))
        if (held == null && heldFor != null) dismissHeld()
        val failing = jobs.firstOrNull { it.state == PrintJobState.QUEUED && it.lastError != null }?.lastError
        fault.showError(failing?.let { getString(R.string.printer_fault_banner, it) })
        checkPrinter.visibility = if (failing != null) View.VISIBLE else View.GONE
        if (failing != null && failing != faultShown) {
            // A new printer fault: say once what to do (the printer's own status, explained by the core).
            faultShown = failing
            launchUi { PrinterCheck.showStatus(this@ResultActivity, holder.get()) }
        }
    }

    /** Opening the screen. */
    companion object {
        private const val EXTRA_TRACE = "io.poscore.app.TRACE"
        private const val TEAR_OFF = "tear_off"
        private val SIGNED_KINDS = setOf(TxnKind.PRE_AUTH, TxnKind.COMPLETION, TxnKind.COMPLETION_ADVICE)

        /** The result screen of the transaction [trace]. */
        fun intent(context: Context, trace: Int): Intent =
            Intent(context, ResultActivity::class.java).putExtra(EXTRA_TRACE, trace)
    }
}
