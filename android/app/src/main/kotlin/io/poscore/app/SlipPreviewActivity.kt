package io.poscore.app

import android.content.Context
import android.content.Intent
import android.graphics.BitmapFactory
import android.os.Bundle
import android.widget.ImageView
import android.widget.LinearLayout
import android.widget.TextView

/**
 * A slip as the printer prints it (`PosCore.slipPreview`: the core draws the slip's ESC/POS
 * from the journal as a PNG), merchant or cardholder copy.
 */
class SlipPreviewActivity : BaseActivity() {
    private var trace = 0
    private lateinit var status: TextView
    private lateinit var image: ImageView

    /** The copy shown now (`merchant`, `cardholder`). */
    var copy: String = COPY_MERCHANT
        private set

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        trace = intent.getIntExtra(EXTRA_TRACE, 0)
        copy = savedInstanceState?.getString(STATE_COPY) ?: COPY_MERCHANT
        title = getString(R.string.preview_title)
        val page = page()
        page.heading(getString(R.string.preview_title))
        page.button(getString(R.string.preview_merchant)) { load(COPY_MERCHANT) }
        page.button(getString(R.string.preview_cardholder)) { load(COPY_CARDHOLDER) }
        status = page.text()
        image = ImageView(this).apply {
            id = R.id.slip_preview_image
            adjustViewBounds = true
            scaleType = ImageView.ScaleType.FIT_START
        }
        page.addView(image, LinearLayout.LayoutParams(LinearLayout.LayoutParams.MATCH_PARENT, LinearLayout.LayoutParams.WRAP_CONTENT))
        load(copy)
    }

    override fun onSaveInstanceState(outState: Bundle) {
        super.onSaveInstanceState(outState)
        outState.putString(STATE_COPY, copy)
    }

    private fun load(which: String) = launchUi {
        copy = which
        status.text = getString(R.string.preview_loading)
        val png = holder.get().core.slipPreview(trace, which)
        image.setImageBitmap(BitmapFactory.decodeByteArray(png, 0, png.size))
        status.text = Texts.copy(this@SlipPreviewActivity, which, reprint = false)
    }

    /** Opening the screen. */
    companion object {
        private const val EXTRA_TRACE = "io.poscore.app.TRACE"
        private const val STATE_COPY = "copy"
        private const val COPY_MERCHANT = "merchant"
        private const val COPY_CARDHOLDER = "cardholder"

        /** The preview of the transaction [trace]'s slips. */
        fun intent(context: Context, trace: Int): Intent =
            Intent(context, SlipPreviewActivity::class.java).putExtra(EXTRA_TRACE, trace)
    }
}
