package io.poscore.app

import android.os.Bundle
import android.view.View
import android.widget.Button
import android.widget.TextView
import io.poscore.ffi.PosException
import io.poscore.ffi.ReversalState
import io.poscore.sdk.newRequestId

/**
 * Diagnosis: what recovery found at start-up, what is still open (pending and failed
 * reversals, unprinted slips), the printer's status with what to do, and the operator's retry
 * of failed reversals (a failed reversal is never deleted; it waits here).
 */
class DiagnosisActivity : BaseActivity() {
    private lateinit var report: TextView
    private lateinit var retry: Button
    private var failedTraces: List<Int> = emptyList()

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        title = getString(R.string.diagnosis_title)
        val page = page()
        page.heading(getString(R.string.diagnosis_title))
        report = page.text()
        retry = page.button(getString(R.string.diagnosis_retry, 0)) { retryFailed() }.apply { visibility = View.GONE }
        page.button(getString(R.string.diagnosis_refresh)) { check() }
        check()
    }

    private fun check() = launchUi {
        report.text = getString(R.string.diagnosis_running)
        val opened = holder.get()
        val info = opened.core.recover()
        if (opened.recovery == null) opened.recovery = info
        val recent = opened.core.list(JOURNAL_WINDOW)
        failedTraces = recent.filter { it.reversal?.state == ReversalState.FAILED }.map { it.trace }
        val printer = try {
            val status = PrinterCheck.status(opened)
            Texts.bilingual(this@DiagnosisActivity, status.messageZh, status.messageEn)
        } catch (e: PosException) {
            Texts.message(this@DiagnosisActivity, e)
        }
        report.text = listOf(
            getString(R.string.diagnosis_recovery, info.madeUnknown, info.madeNotSent, info.printJobsRequeued),
            getString(R.string.diagnosis_now, info.reversalsPending, info.reversalsFailed, info.slipsUnprinted),
            getString(R.string.diagnosis_printer, opened.printerName, printer),
            getString(R.string.diagnosis_journal, recent.size),
        ).joinToString("\n\n")
        retry.text = getString(R.string.diagnosis_retry, failedTraces.size)
        retry.visibility = if (failedTraces.isEmpty()) View.GONE else View.VISIBLE
    }

    private fun retryFailed() = launchUi {
        retry.isEnabled = false
        try {
            val core = holder.get().core
            for (trace in failedTraces) core.retryReversal(newRequestId("retry"), trace)
            Faults.dialog(this@DiagnosisActivity, getString(R.string.diagnosis_title), getString(R.string.diagnosis_retried, failedTraces.size))
        } finally {
            retry.isEnabled = true
        }
        check()
    }

    private companion object {
        /** Transactions read for the failed-reversal list (the newest). */
        const val JOURNAL_WINDOW = 1_000
    }
}
