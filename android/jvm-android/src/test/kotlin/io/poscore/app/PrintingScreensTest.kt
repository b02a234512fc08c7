package io.poscore.app

import android.app.Activity
import android.app.AlertDialog
import android.content.DialogInterface
import android.os.Looper
import android.os.SystemClock
import android.view.MotionEvent
import android.view.View
import android.view.ViewGroup
import android.widget.Button
import android.widget.ImageView
import android.widget.TextView
import io.poscore.ffi.DeviceStatus
import io.poscore.ffi.Point
import io.poscore.ffi.PrintJobState
import io.poscore.ffi.PrinterVendor
import io.poscore.ffi.SoftwarePrinter
import io.poscore.ffi.Stroke
import io.poscore.ffi.TxnState
import io.poscore.ffi.defaultConfig
import io.poscore.sdk.newRequestId
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.junit.runner.RunWith
import org.robolectric.Robolectric
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config

/**
 * The printing screens under Robolectric against the real core: the held-fault dialog (its
 * remedy in both languages, Continue printing), the signature pad saving its strokes, the
 * slip preview.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34])
class PrintingScreensTest {

    private val app: PosApp
        get() = RuntimeEnvironment.getApplication() as PosApp

    @After
    fun closeTerminal() {
        runBlocking { app.core.close() }
    }

    /**
     * Opens the terminal the way a screen does: `CoreHolder.get` runs on the main thread, so
     * the main looper is driven until it is open (blocking the main thread would deadlock).
     */
    private fun opened(): CoreHolder.Opened {
        var opened: Result<CoreHolder.Opened>? = null
        CoroutineScope(Dispatchers.Main).launch { opened = runCatching { app.core.get() } }
        waitFor("the terminal opens") { opened != null }
        return opened!!.getOrThrow()
    }

    private fun approved(opened: CoreHolder.Opened, amount: String = "50.00"): Int {
        val t = runBlocking { opened.core.preauth(newRequestId(), amount, PAN, "3012") }
        assertEquals(TxnState.APPROVED, t.state)
        return t.trace
    }

    @Test
    fun paper_out_opens_the_held_dialog_with_the_remedy_and_ready_closes_it() {
        val opened = opened()
        val printer = opened.printer as SoftwarePrinter
        printer.setStatus(DeviceStatus(PrinterVendor.PAX, 2, null)) // PAX 2: out of paper
        val trace = approved(opened)
        val result = Robolectric.buildActivity(ResultActivity::class.java, ResultActivity.intent(app, trace)).setup().get()

        waitFor("the held dialog") { result.heldDialog?.isShowing == true }
        val dialog = result.heldDialog!!
        val message = shadowOf(dialog).message.toString()
        assertTrue(message, message.contains("缺纸") && message.contains("out of paper") && message.contains("[paper_out]"))
        assertEquals(result.getString(R.string.held_title), shadowOf(dialog).title.toString())
        assertEquals(result.getString(R.string.held_continue), dialog.getButton(DialogInterface.BUTTON_POSITIVE).text.toString())
        assertTrue(printer.printed().isEmpty())
        val heldRow = result.getString(R.string.job_held)
        waitFor("a held slip row") { texts(result).any { it.contains(heldRow) } }

        // Paper loaded: the queue resumes by itself, the dialog goes away, both slips print.
        printer.setStatus(DeviceStatus(PrinterVendor.PAX, 0, null))
        waitFor("resumed and printed") { printer.printed().size == 2 && result.heldDialog == null }
        assertFalse(dialog.isShowing)
        waitFor("2 of 2 printed") { result.getString(R.string.result_slips, 2, 2) in texts(result) }
    }

    @Test
    fun continue_printing_resumes_a_tear_off_hold() {
        app.core.config = defaultConfig().copy(tearPrompt = true)
        val opened = opened()
        val printer = opened.printer as SoftwarePrinter
        val trace = approved(opened)
        val result = Robolectric.buildActivity(ResultActivity::class.java, ResultActivity.intent(app, trace)).setup().get()

        waitFor("the tear-off dialog") { result.heldDialog?.isShowing == true }
        val dialog: AlertDialog = result.heldDialog!!
        assertEquals(result.getString(R.string.held_title_tear_off), shadowOf(dialog).title.toString())
        val message = shadowOf(dialog).message.toString()
        assertTrue(message, message.contains("撕下") && message.contains("tear the slip off"))
        assertEquals(listOf("merchant"), printer.printed().map { it.copy })
        val held = runBlocking { opened.core.show(trace) }!!.printJobs
        assertEquals(listOf(PrintJobState.PRINTED, PrintJobState.HELD), held.map { it.state })
        assertEquals("tear_off", held[1].heldReason)

        // Only the operator resumes a tear-off hold: the button does it.
        assertTrue(dialog.getButton(DialogInterface.BUTTON_POSITIVE).performClick())
        waitFor("the cardholder copy printed") { printer.printed().size == 2 }
        assertEquals(listOf("merchant", "cardholder"), printer.printed().map { it.copy })
        assertFalse(dialog.isShowing)
    }

    @Test
    fun the_signature_pad_hands_its_strokes_to_save_signature() {
        val opened = opened()
        val trace = approved(opened)
        runBlocking { opened.core.waitIdle() }
        val unsigned = runBlocking { opened.core.slipPreview(trace, "merchant") }

        val screen = Robolectric.buildActivity(SignatureActivity::class.java, SignatureActivity.intent(app, trace)).setup().get()
        val pad = screen.findViewById<SignaturePadView>(R.id.signature_pad)
        if (pad.width == 0) pad.layout(0, 0, PAD_W, PAD_H)
        val strokes = listOf(
            listOf(20f to 150f, 120f to 40f, 220f to 160f, 320f to 50f),
            listOf(360f to 120f, 420f to 130f),
        )
        for (stroke in strokes) draw(pad, stroke)
        val expected = strokes.map { s -> Stroke(s.map { (x, y) -> Point(x.toInt(), y.toInt()) }) }
        assertEquals(expected, pad.toStrokes())
        assertFalse(pad.isEmpty)

        click(screen, R.string.signature_confirm)
        waitFor("saved and closed") { screen.isFinishing }
        val signature = Signatures.get(trace)
        assertNotNull(signature)
        assertEquals(2, signature!!.strokes.size)
        // The core has it: the journal logged it, and the merchant slip now carries it.
        val diagnosis = runBlocking { opened.core.diagnose(trace) }!!
        assertTrue(diagnosis.timeline.joinToString(), diagnosis.timeline.any { it.entity == "signature" })
        val signed = runBlocking { opened.core.slipPreview(trace, "merchant") }
        assertFalse("the preview changed", unsigned.contentEquals(signed))
    }

    @Test
    fun an_empty_pad_is_refused_on_screen() {
        val opened = opened()
        val trace = approved(opened)
        val screen = Robolectric.buildActivity(SignatureActivity::class.java, SignatureActivity.intent(app, trace)).setup().get()
        click(screen, R.string.signature_confirm)
        shadowOf(Looper.getMainLooper()).idle()
        assertTrue(screen.getString(R.string.signature_empty) in texts(screen))
        assertFalse(screen.isFinishing)
    }

    @Test
    fun the_slip_preview_shows_the_core_png() {
        val opened = opened()
        val trace = approved(opened)
        val preview = Robolectric.buildActivity(SlipPreviewActivity::class.java, SlipPreviewActivity.intent(app, trace)).setup().get()
        val image = preview.findViewById<ImageView>(R.id.slip_preview_image)
        waitFor("the slip image") { image.drawable != null }
        assertTrue(preview.getString(R.string.copy_merchant) in texts(preview))
        click(preview, R.string.preview_cardholder)
        waitFor("the cardholder copy") { preview.copy == "cardholder" && preview.getString(R.string.copy_cardholder) in texts(preview) }
    }

    /** One pen-down … pen-up through [points], as touch events. */
    private fun draw(view: View, points: List<Pair<Float, Float>>) {
        val down = SystemClock.uptimeMillis()
        points.forEachIndexed { i, (x, y) ->
            val action = when (i) {
                0 -> MotionEvent.ACTION_DOWN
                points.lastIndex -> MotionEvent.ACTION_UP
                else -> MotionEvent.ACTION_MOVE
            }
            val event = MotionEvent.obtain(down, down + i * 10L, action, x, y, 0)
            assertTrue(view.dispatchTouchEvent(event))
            event.recycle()
        }
    }

    /** Runs the main looper until [condition] holds (the core works on its own threads). */
    private fun waitFor(what: String, timeoutMs: Long = 30_000, condition: () -> Boolean) {
        val deadline = System.currentTimeMillis() + timeoutMs
        while (true) {
            shadowOf(Looper.getMainLooper()).idle()
            if (condition()) return
            if (System.currentTimeMillis() > deadline) throw AssertionError("timed out waiting for: $what")
            Thread.sleep(20)
        }
    }

    private fun texts(activity: Activity): List<String> {
        val found = mutableListOf<String>()
        fun walk(view: View) {
            if (view is TextView && view.visibility == View.VISIBLE) found += view.text.toString()
            if (view is ViewGroup) for (i in 0 until view.childCount) walk(view.getChildAt(i))
        }
        walk(activity.window.decorView)
        return found
    }

    private fun click(activity: Activity, label: Int) {
        val text = activity.getString(label)
        var found: Button? = null
        fun walk(view: View) {
            if (view is Button && view.text.toString() == text) found = view
            if (view is ViewGroup) for (i in 0 until view.childCount) walk(view.getChildAt(i))
        }
        walk(activity.window.decorView)
        assertNotNull("no button \"$text\"", found)
        assertTrue(found!!.performClick())
    }

    private companion object {
        const val PAN = "6222021234567890128"
        const val PAD_W = 480
        const val PAD_H = 240
    }
}
