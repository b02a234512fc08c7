package io.poscore.app

import android.content.Context
import android.content.Intent
import android.os.Bundle
import android.widget.LinearLayout

/** The cardholder signs on a [SignaturePadView]; the strokes go to [Signatures] (memory). */
class SignatureActivity : BaseActivity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val trace = intent.getIntExtra(EXTRA_TRACE, 0)
        title = getString(R.string.signature_title)
        val page = page()
        page.heading(getString(R.string.signature_title))
        page.text(getString(R.string.signature_hint))
        val pad = SignaturePadView(this).apply { id = R.id.signature_pad }
        page.addView(pad, LinearLayout.LayoutParams(LinearLayout.LayoutParams.MATCH_PARENT, dp(PAD_HEIGHT_DP)).apply { topMargin = dp(8) })
        val error = page.errorText()
        page.button(getString(R.string.signature_clear)) {
            pad.clear()
            error.showError(null)
        }
        page.button(getString(R.string.signature_confirm)) {
            if (pad.isEmpty) {
                error.showError(getString(R.string.signature_empty))
            } else {
                Signatures.put(Signatures.Signature(trace, pad.strokes(), pad.width, pad.height))
                finish()
            }
        }
    }

    /** Opening the screen. */
    companion object {
        private const val EXTRA_TRACE = "io.poscore.app.TRACE"
        private const val PAD_HEIGHT_DP = 240

        /** The signature screen for the transaction [trace]. */
        fun intent(context: Context, trace: Int): Intent =
            Intent(context, SignatureActivity::class.java).putExtra(EXTRA_TRACE, trace)
    }
}
