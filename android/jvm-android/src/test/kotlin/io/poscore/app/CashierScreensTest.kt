package io.poscore.app

import android.app.Activity
import android.content.Intent
import android.os.Looper
import android.view.View
import android.view.ViewGroup
import android.widget.Button
import android.widget.EditText
import android.widget.TextView
import io.poscore.ffi.SoftwarePrinter
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertEquals
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
 * The cashier screens under Robolectric (API 34), against the real core: the host build of
 * libposcore_ffi with its simulated acquirer, the app's strings from its res/ (through the
 * resource table GenerateR writes), the software printer.
 */
@RunWith(RobolectricTestRunner::class)
@Config(sdk = [34])
class CashierScreensTest {

    private val app: PosApp
        get() = RuntimeEnvironment.getApplication() as PosApp

    @After
    fun closeTerminal() {
        runBlocking { app.core.close() }
    }

    @Test
    fun home_opens_the_terminal_and_offers_every_operation() {
        val home = Robolectric.buildActivity(HomeActivity::class.java).setup().get()
        val labels = texts(home)
        for (action in ACTIONS) assertTrue("missing ${home.getString(action)}", home.getString(action) in labels)

        val ready = home.getString(R.string.home_ready, home.getString(R.string.printer_software))
        waitFor("home ready") { texts(home).any { it.startsWith(ready) } }
        assertTrue(home.getString(R.string.home_software_printer_warning) in texts(home))

        click(home, R.string.action_preauth)
        val next = shadowOf(home).nextStartedActivity
        assertEquals(EntryActivity::class.java.name, next.component?.className)
    }

    @Test
    fun a_preauth_is_approved_and_both_slips_print() {
        val entry = Robolectric.buildActivity(EntryActivity::class.java, EntryActivity.intent(context(), EntryActivity.Mode.PREAUTH)).setup().get()
        entry.findViewById<EditText>(R.id.entry_amount).setText("100.00")
        entry.findViewById<EditText>(R.id.entry_pan).setText(PAN)
        entry.findViewById<EditText>(R.id.entry_expiry).setText("3012")
        click(entry, R.string.entry_confirm)
        val resultIntent = waitForStarted(entry, ResultActivity::class.java)

        val result = Robolectric.buildActivity(ResultActivity::class.java, resultIntent).setup().get()
        val approved = result.getString(R.string.state_approved)
        val printed = result.getString(R.string.result_slips, 2, 2)
        waitFor("approved, 2 of 2 slips printed") { texts(result).containsAll(listOf(approved, printed)) }
        assertTrue(texts(result).any { it.contains("622202*********0128") })
        assertTrue("the full card number is never shown", texts(result).none { it.contains(PAN) })
        val printer = runBlocking { app.core.get().printer } as SoftwarePrinter
        assertEquals(listOf("merchant", "cardholder"), printer.printed().map { it.copy })
    }

    @Test
    fun a_lost_answer_turns_into_a_reversal_on_the_result_screen() {
        val entry = Robolectric.buildActivity(EntryActivity::class.java, EntryActivity.intent(context(), EntryActivity.Mode.PREAUTH)).setup().get()
        entry.findViewById<EditText>(R.id.entry_amount).setText("10.98")
        entry.findViewById<EditText>(R.id.entry_pan).setText(PAN)
        entry.findViewById<EditText>(R.id.entry_expiry).setText("3012")
        click(entry, R.string.entry_confirm)
        val result = Robolectric.buildActivity(ResultActivity::class.java, waitForStarted(entry, ResultActivity::class.java)).setup().get()
        // The screen follows the core's events: unknown (answer lost), then reversed.
        val reversed = result.getString(R.string.state_reversed)
        waitFor("reversed") { reversed in texts(result) }
        val reversal = result.getString(R.string.result_reversal, result.getString(R.string.reversal_done), "98", 1)
        assertTrue(texts(result).joinToString("\n"), texts(result).any { it.contains(reversal) })
    }

    @Test
    @Config(qualifiers = "zh-rCN")
    fun a_chinese_terminal_gets_the_chinese_strings() {
        val home = Robolectric.buildActivity(HomeActivity::class.java).setup().get()
        assertTrue(listOf("预授权", "预授权完成", "预授权撤销", "预授权完成撤销", "结算", "打印机状态", "故障诊断").all { it in texts(home) })
        waitFor("就绪") { texts(home).any { it.startsWith("就绪。打印机：软件打印机（仅供测试）") } }
    }

    @Test
    fun a_bad_amount_shows_the_core_message_under_the_form_in_both_languages() {
        val entry = Robolectric.buildActivity(EntryActivity::class.java, EntryActivity.intent(context(), EntryActivity.Mode.PREAUTH)).setup().get()
        entry.findViewById<EditText>(R.id.entry_amount).setText("1.234")
        entry.findViewById<EditText>(R.id.entry_pan).setText(PAN)
        entry.findViewById<EditText>(R.id.entry_expiry).setText("3012")
        click(entry, R.string.entry_confirm)
        waitFor("the core's validation message") { texts(entry).any { it.contains("[AMOUNT_TOO_MANY_DECIMALS]") } }
        val message = texts(entry).first { it.contains("[AMOUNT_TOO_MANY_DECIMALS]") }
        assertTrue("both languages: $message", message.lines().size >= 3 && message.any { it.code > 0x2E80 })
        assertNotNull(findButton(entry, R.string.entry_confirm).takeIf { it.isEnabled })
    }

    private fun context() = RuntimeEnvironment.getApplication()

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

    private fun waitForStarted(activity: Activity, target: Class<out Activity>): Intent {
        var started: Intent? = null
        waitFor("${target.simpleName} started") {
            started = shadowOf(activity).nextStartedActivity
            started != null
        }
        assertEquals(target.name, started!!.component?.className)
        return started!!
    }

    private fun texts(activity: Activity): List<String> {
        val found = mutableListOf<String>()
        fun walk(view: View) {
            if (view is TextView && view.visibility == View.VISIBLE && view !is EditText) found += view.text.toString()
            if (view is ViewGroup) for (i in 0 until view.childCount) walk(view.getChildAt(i))
        }
        walk(activity.window.decorView)
        return found
    }

    private fun findButton(activity: Activity, label: Int): Button {
        val text = activity.getString(label)
        var found: Button? = null
        fun walk(view: View) {
            if (view is Button && view.text.toString() == text) found = view
            if (view is ViewGroup) for (i in 0 until view.childCount) walk(view.getChildAt(i))
        }
        walk(activity.window.decorView)
        return found ?: throw AssertionError("no button \"$text\"")
    }

    private fun click(activity: Activity, label: Int) {
        assertTrue(findButton(activity, label).performClick())
    }

    private companion object {
        const val PAN = "6222021234567890128"
        val ACTIONS = listOf(
            R.string.action_preauth, R.string.action_complete, R.string.action_void, R.string.action_complete_void,
            R.string.action_reprint, R.string.action_settle, R.string.action_printer_status, R.string.action_diagnosis,
        )
    }
}
