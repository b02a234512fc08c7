package io.poscore.app

import android.content.Context
import android.content.Intent
import android.os.Bundle
import android.view.View
import android.widget.Button
import android.widget.CheckBox
import android.widget.EditText
import android.widget.TextView
import io.poscore.ffi.PosException
import io.poscore.ffi.Transaction
import io.poscore.sdk.newRequestId
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch

/**
 * Entry of one operation: amount and keyed card for a pre-auth; original trace (and amount)
 * for a completion, a void or a completion void.
 *
 * Validation is the core's: the amount, card number, expiry and trace are sent as typed, and
 * an `InvalidInput`/`Refused` error is shown under the form in both languages (nothing was
 * sent; the corrected form goes out under a new request id). Only empty fields and a trace
 * that is not a number are caught here.
 *
 * **One request, one transaction.** The request id is made when the screen opens and kept
 * across recreation, and the confirm button is disabled while the request runs: double taps
 * and retries never authorize twice. Recreated while a request runs, the screen finds the
 * transaction by its request id instead of sending again.
 *
 * **Card data.** The keyed card number is masked on screen, never saved in the instance
 * state, and cleared once sent (the journal keeps only BIN + last 4 and a keyed hash).
 */
class EntryActivity : BaseActivity() {
    /** The operation. */
    enum class Mode { PREAUTH, COMPLETE, VOID, COMPLETE_VOID }

    private lateinit var mode: Mode
    private lateinit var requestId: String
    private var inFlight = false

    private var amount: EditText? = null
    private var pan: EditText? = null
    private var expiry: EditText? = null
    private var trace: EditText? = null
    private var offline: CheckBox? = null
    private lateinit var error: TextView
    private lateinit var busy: TextView
    private lateinit var confirm: Button

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        mode = intent.getStringExtra(EXTRA_MODE)?.let { runCatching { Mode.valueOf(it) }.getOrNull() } ?: Mode.PREAUTH
        requestId = savedInstanceState?.getString(STATE_REQUEST_ID) ?: newRequestId(prefix())
        val page = page()
        val titleText = getString(
            when (mode) {
                Mode.PREAUTH -> R.string.entry_title_preauth
                Mode.COMPLETE -> R.string.entry_title_complete
                Mode.VOID -> R.string.entry_title_void
                Mode.COMPLETE_VOID -> R.string.entry_title_complete_void
            },
        )
        title = titleText
        page.heading(titleText)
        when (mode) {
            Mode.PREAUTH -> {
                amount = page.field(R.id.entry_amount, getString(R.string.entry_amount), Inputs.AMOUNT, getString(R.string.entry_amount_hint))
                pan = page.field(R.id.entry_pan, getString(R.string.entry_pan), Inputs.SECRET_DIGITS).apply { isSaveEnabled = false }
                expiry = page.field(R.id.entry_expiry, getString(R.string.entry_expiry), Inputs.DIGITS)
            }
            Mode.COMPLETE -> {
                trace = page.field(R.id.entry_trace, getString(R.string.entry_trace_preauth), Inputs.DIGITS)
                amount = page.field(R.id.entry_amount, getString(R.string.entry_amount), Inputs.AMOUNT, getString(R.string.entry_amount_hint))
                offline = page.checkBox(R.id.entry_offline, getString(R.string.entry_offline))
            }
            Mode.VOID -> trace = page.field(R.id.entry_trace, getString(R.string.entry_trace_preauth), Inputs.DIGITS)
            Mode.COMPLETE_VOID -> trace = page.field(R.id.entry_trace, getString(R.string.entry_trace_completion), Inputs.DIGITS)
        }
        error = page.errorText()
        busy = page.text(getString(R.string.entry_sending)).apply { visibility = View.GONE }
        confirm = page.button(getString(R.string.entry_confirm)) { submit() }
        if (savedInstanceState?.getBoolean(STATE_IN_FLIGHT) == true) findSent()
    }

    override fun onSaveInstanceState(outState: Bundle) {
        super.onSaveInstanceState(outState)
        outState.putString(STATE_REQUEST_ID, requestId)
        outState.putBoolean(STATE_IN_FLIGHT, inFlight)
    }

    private fun prefix(): String = when (mode) {
        Mode.PREAUTH -> "preauth"
        Mode.COMPLETE -> "complete"
        Mode.VOID -> "void"
        Mode.COMPLETE_VOID -> "cvoid"
    }

    private fun required(field: EditText?, label: Int): String? {
        if (field == null) return null
        val value = field.text.toString().trim()
        if (value.isEmpty()) {
            error.showError(getString(R.string.entry_required, getString(label)))
            field.requestFocus()
            return null
        }
        return value
    }

    private fun submit() {
        if (inFlight) return
        error.showError(null)
        val amountText = if (amount != null) required(amount, R.string.entry_amount) ?: return else ""
        val panText = if (pan != null) required(pan, R.string.entry_pan) ?: return else ""
        val expiryText = if (expiry != null) required(expiry, R.string.entry_expiry) ?: return else ""
        val traceNumber = if (trace != null) {
            val text = required(trace, if (mode == Mode.COMPLETE_VOID) R.string.entry_trace_completion else R.string.entry_trace_preauth) ?: return
            text.toIntOrNull() ?: run {
                error.showError(getString(R.string.entry_trace_digits))
                return
            }
        } else {
            0
        }
        setBusy(true)
        scope.launch {
            try {
                val core = holder.get().core
                val txn = when (mode) {
                    Mode.PREAUTH -> core.preauth(requestId, amountText, panText, expiryText)
                    Mode.COMPLETE -> core.complete(requestId, traceNumber, amountText, offline?.isChecked == true)
                    Mode.VOID -> core.voidPreauth(requestId, traceNumber)
                    Mode.COMPLETE_VOID -> core.completeVoid(requestId, traceNumber)
                }
                pan?.text?.clear()
                showResult(txn)
            } catch (e: PosException) {
                setBusy(false)
                if (Texts.nothingSent(e)) {
                    // Nothing was sent: show why under the form; the corrected request is a new one.
                    error.showError(Texts.message(this@EntryActivity, e))
                    requestId = newRequestId(prefix())
                } else {
                    // The request may be journaled: keep its id, so confirming again returns its outcome.
                    pan?.text?.clear()
                    Faults.show(this@EntryActivity, e)
                }
            } catch (e: CancellationException) {
                throw e
            } catch (e: Exception) {
                setBusy(false)
                Faults.unexpected(this@EntryActivity, e)
            }
        }
    }

    /** After recreation during a request: find it by request id (it is journaled before it is sent). */
    private fun findSent() {
        setBusy(true)
        launchUi {
            val core = holder.get().core
            repeat(FIND_ATTEMPTS) {
                val sent = core.list(FIND_WINDOW).firstOrNull { it.requestId == requestId }
                if (sent != null) {
                    showResult(sent)
                    return@launchUi
                }
                delay(FIND_INTERVAL_MS)
            }
            // Never journaled: nothing was sent. Let the operator confirm again.
            setBusy(false)
        }
    }

    private fun showResult(txn: Transaction) {
        inFlight = false
        startActivity(ResultActivity.intent(this, txn.trace))
        finish()
    }

    private fun setBusy(value: Boolean) {
        inFlight = value
        confirm.isEnabled = !value
        busy.visibility = if (value) View.VISIBLE else View.GONE
    }

    /** Opening the screen. */
    companion object {
        private const val EXTRA_MODE = "io.poscore.app.MODE"
        private const val STATE_REQUEST_ID = "requestId"
        private const val STATE_IN_FLIGHT = "inFlight"
        private const val FIND_ATTEMPTS = 10
        private const val FIND_WINDOW = 20
        private const val FIND_INTERVAL_MS = 300L

        /** The entry screen for [mode]. */
        fun intent(context: Context, mode: Mode): Intent =
            Intent(context, EntryActivity::class.java).putExtra(EXTRA_MODE, mode.name)
    }
}
