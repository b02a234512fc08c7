package io.poscore.app

import android.app.Activity
import android.app.AlertDialog
import android.util.Log
import io.poscore.ffi.PosException
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch

/**
 * A screen with its own coroutine scope on the main thread, cancelled when the screen is
 * destroyed. Nothing blocking runs on the main thread: the facade's `suspend` functions
 * switch to IO themselves, and vendor printer calls go through `Dispatchers.IO`.
 *
 * Cancelling a screen's scope stops the *waiting*, never a command already handed to the
 * core: the journal has it, and sending the same request id again returns its outcome.
 */
abstract class BaseActivity : Activity() {
    /** Main-thread scope of this screen. */
    protected val scope: CoroutineScope = CoroutineScope(Dispatchers.Main + SupervisorJob())

    /** The process's terminal holder. */
    protected val holder: CoreHolder
        get() = (application as PosApp).core

    override fun onDestroy() {
        scope.cancel()
        super.onDestroy()
    }

    /**
     * Runs [block] in this screen's scope; a [PosException] it throws is shown in a fault
     * dialog (both languages, with what to do), any other failure in a generic one.
     */
    protected fun launchUi(block: suspend CoroutineScope.() -> Unit): Job = scope.launch {
        try {
            block()
        } catch (e: CancellationException) {
            throw e
        } catch (e: PosException) {
            Faults.show(this@BaseActivity, e)
        } catch (e: Exception) {
            Log.e("poscore-app", "unexpected failure", e)
            Faults.unexpected(this@BaseActivity, e)
        }
    }
}

/** Fault dialogs. */
object Faults {
    /** A core error: its title by kind, its message in both languages and its code. */
    fun show(activity: Activity, e: PosException, onDismiss: (() -> Unit)? = null) {
        dialog(activity, Texts.title(activity, e), Texts.message(activity, e), onDismiss)
    }

    /** Anything else (a bug): its class and message. */
    fun unexpected(activity: Activity, e: Throwable) {
        dialog(activity, activity.getString(R.string.error_unexpected), "${e.javaClass.simpleName}: ${e.message}", null)
    }

    /** A plain dialog with an OK button (not shown if the screen is going away). */
    fun dialog(activity: Activity, title: CharSequence, message: CharSequence, onDismiss: (() -> Unit)? = null) {
        if (activity.isFinishing || activity.isDestroyed) return
        AlertDialog.Builder(activity)
            .setTitle(title)
            .setMessage(message)
            .setPositiveButton(R.string.dialog_ok, null)
            .setOnDismissListener { onDismiss?.invoke() }
            .show()
    }
}
