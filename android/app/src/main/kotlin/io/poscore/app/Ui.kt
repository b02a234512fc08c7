package io.poscore.app

import android.app.Activity
import android.content.Context
import android.graphics.Color
import android.graphics.Typeface
import android.text.InputType
import android.util.TypedValue
import android.view.Gravity
import android.view.View
import android.view.ViewGroup
import android.widget.Button
import android.widget.CheckBox
import android.widget.EditText
import android.widget.LinearLayout
import android.widget.ProgressBar
import android.widget.ScrollView
import android.widget.TextView
import kotlin.math.roundToInt

/*
 * Screens are built in code from plain android.widget views (no XML layouts, no AndroidX):
 * one scrolling column per screen. Text comes from string resources.
 */

/** [value] density-independent pixels in pixels. */
internal fun Context.dp(value: Int): Int = (value * resources.displayMetrics.density).roundToInt()

/** Makes this activity's content one scrolling column and returns the column. */
internal fun Activity.page(): LinearLayout {
    val column = LinearLayout(this).apply {
        orientation = LinearLayout.VERTICAL
        val pad = dp(16)
        setPadding(pad, pad, pad, pad)
    }
    val scroll = ScrollView(this).apply {
        isFillViewport = true
        addView(column, ViewGroup.LayoutParams(ViewGroup.LayoutParams.MATCH_PARENT, ViewGroup.LayoutParams.WRAP_CONTENT))
    }
    setContentView(scroll)
    return column
}

private fun LinearLayout.add(view: View, topMarginDp: Int = 8): View {
    val params = LinearLayout.LayoutParams(LinearLayout.LayoutParams.MATCH_PARENT, LinearLayout.LayoutParams.WRAP_CONTENT)
    params.topMargin = context.dp(topMarginDp)
    addView(view, params)
    return view
}

/** A large heading. */
internal fun LinearLayout.heading(text: CharSequence): TextView = TextView(context).apply {
    this.text = text
    setTextSize(TypedValue.COMPLEX_UNIT_SP, 24f)
    typeface = Typeface.DEFAULT_BOLD
}.also { add(it, topMarginDp = 0) }

/** A paragraph of text. */
internal fun LinearLayout.text(text: CharSequence = "", sizeSp: Float = 16f): TextView = TextView(context).apply {
    this.text = text
    setTextSize(TypedValue.COMPLEX_UNIT_SP, sizeSp)
}.also { add(it) }

/** A text shown only when something is wrong (red, hidden while empty). */
internal fun LinearLayout.errorText(): TextView = TextView(context).apply {
    setTextColor(Color.rgb(0xB0, 0x00, 0x20))
    setTextSize(TypedValue.COMPLEX_UNIT_SP, 16f)
    visibility = View.GONE
}.also { add(it) }

/** Shows [message] in this error text, or hides it when null. */
internal fun TextView.showError(message: CharSequence?) {
    text = message ?: ""
    visibility = if (message.isNullOrEmpty()) View.GONE else View.VISIBLE
}

/** A full-width button. */
internal fun LinearLayout.button(text: CharSequence, onClick: () -> Unit): Button = Button(context).apply {
    this.text = text
    minHeight = context.dp(56)
    setOnClickListener { onClick() }
}.also { add(it) }

/** A labelled one-line input with a fixed [id] (so Android keeps its text across recreation). */
internal fun LinearLayout.field(id: Int, label: CharSequence, inputType: Int, hint: CharSequence? = null): EditText {
    text(label, sizeSp = 14f)
    return EditText(context).apply {
        this.id = id
        this.inputType = inputType
        this.hint = hint
        setSingleLine(true)
    }.also { add(it, topMarginDp = 2) }
}

/** A check box with a fixed [id]. */
internal fun LinearLayout.checkBox(id: Int, label: CharSequence): CheckBox = CheckBox(context).apply {
    this.id = id
    text = label
}.also { add(it) }

/** A horizontal progress bar from 0 to [max]. */
internal fun LinearLayout.progress(max: Int): ProgressBar =
    ProgressBar(context, null, android.R.attr.progressBarStyleHorizontal).apply {
        this.max = max
        isIndeterminate = false
    }.also { add(it) }

/** A big, centred status line. */
internal fun LinearLayout.statusLine(): TextView = TextView(context).apply {
    setTextSize(TypedValue.COMPLEX_UNIT_SP, 28f)
    typeface = Typeface.DEFAULT_BOLD
    gravity = Gravity.CENTER_HORIZONTAL
}.also { add(it, topMarginDp = 16) }

/** Input types used by the entry screen. */
internal object Inputs {
    const val AMOUNT: Int = InputType.TYPE_CLASS_NUMBER or InputType.TYPE_NUMBER_FLAG_DECIMAL
    const val DIGITS: Int = InputType.TYPE_CLASS_NUMBER
    const val SECRET_DIGITS: Int = InputType.TYPE_CLASS_NUMBER or InputType.TYPE_NUMBER_VARIATION_PASSWORD
}

/** Minor units (fen) as yuan text, e.g. 12345 → "123.45". */
internal fun formatMinor(minor: Long): String {
    val sign = if (minor < 0) "-" else ""
    val abs = kotlin.math.abs(minor)
    return "$sign${abs / 100}.${(abs % 100).toString().padStart(2, '0')}"
}
