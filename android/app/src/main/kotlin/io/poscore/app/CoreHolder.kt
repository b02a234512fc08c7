package io.poscore.app

import android.content.Context
import io.poscore.ffi.PrinterDevice
import io.poscore.ffi.RecoveryInfo
import io.poscore.ffi.TerminalConfig
import io.poscore.sdk.PosCore
import io.poscore.sdk.android.PosCoreAndroid
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.async
import kotlinx.coroutines.withContext

/**
 * Opens the terminal once per process and hands it to the screens.
 *
 * Opening runs in the process's own scope, not a screen's: a screen closed while the journal
 * opens must not cancel the open halfway (the journal is locked by the terminal that opens
 * it; a second open would fail). A failed open is retried by the next [get].
 */
class CoreHolder(context: Context) {
    private val app = context.applicationContext
    private val scope = CoroutineScope(SupervisorJob() + Dispatchers.Main.immediate)
    private var opening: Deferred<Opened>? = null

    /**
     * The settings the terminal opens with; `null` (the default) is `defaultConfig()`. Set it
     * before the first [get] (tests: tear-off prompt, training).
     */
    var config: TerminalConfig? = null

    /** The terminal with its printer, once open. */
    class Opened(
        /** The terminal. */
        val core: PosCore,
        /** The printer it prints on (for status checks). */
        val printer: PrinterDevice,
        /** What the printer is, for the operator. */
        val printerName: String,
        /** Whether slips only go to a software printer (no paper). */
        val softwarePrinter: Boolean,
    ) {
        /** What recovery reported the first time a screen asked (null until then). */
        @Volatile
        var recovery: RecoveryInfo? = null
    }

    /** The open terminal, opening it first if needed. Call from the main thread. */
    suspend fun get(): Opened {
        val deferred = opening ?: scope.async { open() }.also { opening = it }
        return try {
            deferred.await()
        } catch (e: Exception) {
            // A failed open is forgotten, so the next call tries again (a cancelled caller
            // does not cancel the open itself: it runs in this holder's scope).
            if (deferred.isCompleted && opening === deferred) opening = null
            throw e
        }
    }

    /**
     * Closes the terminal if it was opened (for tests; the app keeps it for the life of the
     * process). The next [get] opens it again.
     */
    suspend fun close() {
        val deferred = opening ?: return
        opening = null
        val opened = try {
            deferred.await()
        } catch (_: Exception) {
            return
        }
        withContext(Dispatchers.IO) { opened.core.close() }
    }

    private suspend fun open(): Opened {
        val chosen = Printers.choose(app)
        val keys = withContext(Dispatchers.IO) { PosCoreAndroid.demoKeys(app) }
        val core = PosCoreAndroid.open(app, keys, chosen.device, config)
        return Opened(core, chosen.device, chosen.name, chosen.software)
    }
}
