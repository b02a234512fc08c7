package io.poscore.app

import android.content.Context
import android.content.Intent
import android.os.Bundle
import android.widget.LinearLayout
import io.poscore.sdk.newRequestId

/**
 * The cardholder signs on a [SignaturePadView]; the strokes are saved in the journal with
 * `PosCore.saveSignature`, and the merchant copy prints them from then on.
 */
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
        val confirm = page.button(getString(R.string.signature_confirm)) {}
        confirm.setOnClickListener {
            if (pad.isEmpty) {
                error.showError(getString(R.string.signature_empty))
                return@setOnClickListener
            }
            confirm.isEnabled = false
            error.showError(null)
            val strokes = pad.toStrokes()
            val (width, height) = pad.width to pad.height
            launchUi {
                try {
                    holder.get().core.saveSignature(newRequestId("sign"), trace, strokes, width, height)
                    Signatures.put(Signatures.Signature(trace, pad.strokes(), width, height))
                    finish()
                } finally {
                    confirm.isEnabled = true
                }
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
