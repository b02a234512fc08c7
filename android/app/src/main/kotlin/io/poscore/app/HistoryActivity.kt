package io.poscore.app

import android.os.Bundle
import android.util.TypedValue
import android.widget.LinearLayout
import android.widget.TextView

/**
 * Recent transactions and their slips. Reprinting needs a reprint command in the core, which
 * it does not have yet: the screen says so, and each row opens the transaction's slips and
 * their print state.
 */
class HistoryActivity : BaseActivity() {
    private lateinit var rows: LinearLayout

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        title = getString(R.string.history_title)
        val page = page()
        page.heading(getString(R.string.history_title))
        page.text(getString(R.string.history_reprint_unavailable), sizeSp = 14f)
        rows = LinearLayout(this).apply { orientation = LinearLayout.VERTICAL }
        page.addView(rows)
    }

    override fun onResume() {
        super.onResume()
        load()
    }

    private fun load() = launchUi {
        val recent = holder.get().core.list(RECENT)
        rows.removeAllViews()
        if (recent.isEmpty()) rows.addView(row(getString(R.string.history_empty)))
        for (t in recent) {
            val line = getString(
                R.string.history_row,
                t.trace,
                Texts.kind(this@HistoryActivity, t.kind),
                t.currency,
                t.amountText,
                Texts.state(this@HistoryActivity, t.state),
            )
            rows.addView(row(line).apply { setOnClickListener { startActivity(ResultActivity.intent(this@HistoryActivity, t.trace)) } })
        }
    }

    private fun row(text: String): TextView = TextView(this).apply {
        this.text = text
        setTextSize(TypedValue.COMPLEX_UNIT_SP, 16f)
        val pad = dp(12)
        setPadding(0, pad, 0, pad)
        isClickable = true
    }

    private companion object {
        const val RECENT = 50
    }
}
