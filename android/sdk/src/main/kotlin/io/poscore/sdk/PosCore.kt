package io.poscore.sdk

import com.sun.jna.Native
import io.poscore.ffi.Diagnosis
import io.poscore.ffi.EReceipt
import io.poscore.ffi.EventListener
import io.poscore.ffi.JournalBackup
import io.poscore.ffi.KeyProvider
import io.poscore.ffi.PosException
import io.poscore.ffi.PosTerminal
import io.poscore.ffi.PrinterDevice
import io.poscore.ffi.PrinterHealth
import io.poscore.ffi.RecoveryInfo
import io.poscore.ffi.Settlement
import io.poscore.ffi.SignOnResult
import io.poscore.ffi.Stroke
import io.poscore.ffi.TerminalConfig
import io.poscore.ffi.TerminalEvent
import io.poscore.ffi.Transaction
import io.poscore.ffi.defaultConfig
import java.util.concurrent.atomic.AtomicBoolean
import kotlin.concurrent.thread
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.channels.BufferOverflow
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.flow.SharedFlow
import kotlinx.coroutines.flow.asSharedFlow
import kotlinx.coroutines.withContext

/**
 * A pre-authorization terminal: the Kotlin face of the Rust core (`poscore-ffi`), on one
 * journal file.
 *
 * Open it with [open] (blocking) or [openAsync], call its `suspend` functions from any
 * coroutine, collect [events] for the UI, and [close] it when done (`use { }` works).
 *
 * **Threads.** Every `suspend` function switches to [Dispatchers.IO] before it calls into
 * Rust, so it is safe to call from the main thread and from any dispatcher; it never runs
 * the native call on the caller's thread, and it works from `Dispatchers.Unconfined` callers
 * too (a bare uniffi suspend call would deadlock there, uniffi#1901). The work itself runs
 * on the core's own threads.
 *
 * **Errors.** Failures are the generated sealed [PosException]; they propagate unchanged:
 * - [PosException.InvalidInput]: a malformed amount, card number, expiry, trace, request id or
 *   setting; nothing was sent;
 * - [PosException.Refused]: a rule refused the command (e.g. `ORIGINAL_NOT_FOUND`,
 *   `COMPLETION_OVER_LIMIT`); nothing was sent;
 * - [PosException.Storage]: the journal failed; the terminal stops taking transactions;
 * - [PosException.Closed]: this object was closed (code `TERMINAL_CLOSED`);
 * - [PosException.Device]: a Kotlin [PrinterDevice] or [KeyProvider] failed;
 * - [PosException.Internal]: a bug in the core (a caught panic); the journal is unaffected.
 *
 * Each carries a stable `code` and the operator's message in Chinese (`messageZh`) and
 * English (`messageEn`). A declined or unknown outcome is *not* an exception: it is a
 * [Transaction] in state `DECLINED` or `UNKNOWN` (the core then reverses it by itself).
 *
 * **Cancellation.** Cancelling the coroutine of a call stops the waiting, not the command:
 * a pre-auth already handed to the core still runs to its end and is journaled. Send the
 * same `requestId` again to get its outcome (one request id is one transaction).
 *
 * **Closing.** [close] abandons exchanges in flight (the journal has them as sent, and the
 * next [open] of the same journal makes them unknown and reverses them: nothing is lost).
 * After [close], every call throws [PosException.Closed]. [close] works from any thread.
 *
 * **Cost.** A call crosses JNA: a synchronous call costs a few microseconds, a `suspend`
 * call about 0.1–0.2 ms (thread hops included) on a desktop JVM; see BENCHMARKS.md, "FFI".
 * Nothing here is meant for a tight loop.
 */
class PosCore private constructor(
    private val terminal: PosTerminal,
    private val listener: FlowListener,
) : AutoCloseable {

    private val closed = AtomicBoolean(false)

    /**
     * The terminal's events, in the order the core made them: transactions, reversals and
     * slips changing state, sign-on, settlement, and printing news: `PrintProgress` ("copy
     * 1/2"), `PrintingHeld` (show the remedy and a "continue printing" button calling
     * [resumePrinting]), `PrintingResumed`, `ElectronicReceipt`.
     *
     * Events are delivered as they happen and are not replayed: a collector sees the events
     * made after it subscribed (read the current state with [list] or [show]). The flow
     * never completes, not even after [close]; cancel the collecting coroutine.
     *
     * **Overflow.** Each collector has a buffer of 1,024 events. If a collector falls
     * that far behind, the *oldest* events it has not seen yet are dropped (never the
     * newest, and the core is never slowed down by a slow collector). Keep collectors quick
     * (hand work off to another coroutine) and treat events as news of a change: the
     * journal, read with [show] or [list], is the truth.
     */
    val events: SharedFlow<TerminalEvent> = listener.flow.asSharedFlow()

    /**
     * Whether the terminal is open: `false` after [close]. A synchronous call into Rust (a
     * few microseconds, no journal access), safe from any thread.
     */
    val isOpen: Boolean
        get() {
            if (closed.get()) return false
            return try {
                terminal.isOpen()
            } catch (e: IllegalStateException) {
                // The generated object throws this once destroyed, i.e. close() ran meanwhile.
                if (closed.get()) false else throw e
            }
        }

    /**
     * 预授权: holds [amount] (text in major units with at most the currency's decimals, e.g.
     * `"100.00"`) on the card [pan] expiring [expiry] (`YYMM`).
     *
     * Returns when the host answered or the answer was lost: the transaction is then
     * `APPROVED` (with its auth code; its slips are printed after), `DECLINED`, or `UNKNOWN`
     * (the core reverses it by itself; do not hand over goods). One [requestId] is one
     * transaction, however often it is sent: a repeat returns the same transaction.
     *
     * @throws PosException.InvalidInput for a bad amount, card number, expiry or request id.
     * @throws PosException see the class documentation for the others.
     */
    suspend fun preauth(requestId: String, amount: String, pan: String, expiry: String): Transaction =
        call { it.preauth(requestId, amount, pan, expiry) }

    /**
     * 预授权完成: completes the pre-auth [trace] for [amount], online, or with [offline] as an
     * advice that the core stores and sends later.
     *
     * @throws PosException.Refused e.g. `ORIGINAL_NOT_FOUND`, or an amount over the
     *   completion limit.
     * @throws PosException see the class documentation for the others.
     */
    suspend fun complete(requestId: String, trace: Int, amount: String, offline: Boolean = false): Transaction =
        call { it.complete(requestId, trace, amount, offline) }

    /**
     * 预授权撤销: voids the pre-auth [trace].
     *
     * @throws PosException.Refused e.g. `ORIGINAL_NOT_FOUND` when no pre-auth has this trace.
     * @throws PosException see the class documentation for the others.
     */
    suspend fun voidPreauth(requestId: String, trace: Int): Transaction =
        call { it.voidPreauth(requestId, trace) }

    /**
     * 预授权完成撤销: voids the completion [trace].
     *
     * @throws PosException.Refused e.g. `ORIGINAL_NOT_FOUND`.
     * @throws PosException see the class documentation for the others.
     */
    suspend fun completeVoid(requestId: String, trace: Int): Transaction =
        call { it.completeVoid(requestId, trace) }

    /**
     * 签到: signs on to the host (`TerminalConfig.host`, or the simulated one). With a real
     * host the approved reply's working keys go to the [KeyProvider]'s `installWorkingKeys`
     * first. The result names the host and, when keys were installed, the MAC key's check
     * value, with a message in both languages for the screen. The core also signs on by
     * itself before the first transaction when one is due.
     *
     * @throws PosException.Refused `SIGN_ON_FAILED` (the host refused), `HOST_UNREACHABLE`.
     * @throws PosException.Device `KEY_INSTALL_FAILED`: the key provider refused the working
     *   keys (e.g. a wrong master key); no transaction is sent until a sign-on succeeds.
     */
    suspend fun signOn(requestId: String = newRequestId("signon")): SignOnResult =
        call { it.signOn(requestId) }

    /**
     * 批结算: sends pending reversals and advices, then settles the current batch. The
     * [Settlement] says whether the host's totals matched (`balanced`), the batch's count and
     * amount, and the next batch number.
     *
     * @throws PosException see the class documentation.
     */
    suspend fun settle(requestId: String): Settlement =
        call { it.settle(requestId) }

    /**
     * 数据备份: copies the journal to [path] while the terminal runs (SQLite's online backup,
     * one consistent copy). Restore with the top-level `restoreJournal(backupPath, journalPath,
     * force)` while no terminal is open on that journal.
     *
     * @throws PosException with a `BACKUP_*` code (e.g. the destination cannot be written).
     */
    suspend fun backup(path: String): JournalBackup =
        call { it.backup(path) }

    /**
     * Queues the failed reversal of [trace] again (the operator's retry, for a reversal in
     * state `FAILED`).
     *
     * @throws PosException see the class documentation.
     */
    suspend fun retryReversal(requestId: String, trace: Int): Transaction =
        call { it.retryReversal(requestId, trace) }

    /**
     * Waits until the work due now is done (reversals sent, slips printed), then says what
     * recovery found when this terminal was opened (e.g. transactions made unknown after a
     * crash) and what is still open now.
     *
     * @throws PosException see the class documentation.
     */
    suspend fun recover(): RecoveryInfo =
        call { it.recover() }

    /**
     * Waits until nothing is in flight, queued or printing. Work scheduled for later (a
     * reversal retry after a backoff, a slip waiting for paper) may remain.
     *
     * @throws PosException see the class documentation.
     */
    suspend fun waitIdle() {
        call { it.waitIdle() }
    }

    /**
     * The newest [limit] transactions (at most 10,000), newest first.
     *
     * @throws PosException see the class documentation.
     */
    suspend fun list(limit: Int = 50): List<Transaction> =
        call { it.list(limit) }

    /**
     * The newest transaction with this [trace], or `null` if there is none.
     *
     * @throws PosException.InvalidInput if [trace] is not 1 to 999999.
     * @throws PosException see the class documentation for the others.
     */
    suspend fun show(trace: Int): Transaction? =
        call { it.show(trace) }

    /**
     * 重打印: prints a slip again, marked 重打印 REPRINT and counted in the journal. [trace]
     * `null` is the last slip printed; [copy] (`"merchant"`, `"cardholder"`, `"bank"`) `null`
     * is the copy last printed of that transaction. Returns the transaction with the new
     * job queued; [events] report its progress.
     *
     * @throws PosException.Refused `NOTHING_TO_REPRINT` when there is no such slip.
     * @throws PosException see the class documentation for the others.
     */
    suspend fun reprint(requestId: String, trace: Int? = null, copy: String? = null): Transaction =
        call { it.reprint(requestId, trace, copy) }

    /**
     * The operator fixed the printer or tore the paper off ("continue printing"): every held
     * slip goes back in the queue. Returns how many. A slip held for a printer fault also
     * resumes by itself once the printer reports it is ready.
     *
     * @throws PosException see the class documentation.
     */
    suspend fun resumePrinting(requestId: String): Int =
        call { it.resumePrinting(requestId) }

    /**
     * Delivers the slips of [trace] that are not printed yet as electronic receipts ([copy]
     * `null`: all of them); show them with [eReceipt]. A paper copy marked REPRINT still
     * prints once the printer works.
     *
     * @throws PosException.Refused `NOTHING_TO_DELIVER` when every slip is printed already.
     * @throws PosException see the class documentation for the others.
     */
    suspend fun deliverElectronically(requestId: String, trace: Int, copy: String? = null): Transaction =
        call { it.deliverElectronically(requestId, trace, copy) }

    /**
     * Stores the cardholder's signature of [trace]: the pad's [strokes] in pad pixels, on a
     * pad [width] × [height] pixels (points dragged off the pad are clamped to its edge).
     * The merchant and bank copies printed from now on carry it.
     *
     * @throws PosException.InvalidInput `SIGNATURE_EMPTY`, `SIGNATURE_TOO_MANY_POINTS`, …
     * @throws PosException see the class documentation for the others.
     */
    suspend fun saveSignature(requestId: String, trace: Int, strokes: List<Stroke>, width: Int, height: Int): Transaction =
        call { it.saveSignature(requestId, trace, strokes, width, height) }

    /**
     * Why the slips of [trace] are where they are: the timeline, and for each slip not
     * printed its cause (`printer_hardware`, `software`, `operator`, `network`, `sync`) with
     * the remedy in both languages. `null` when no transaction has this trace.
     *
     * @throws PosException see the class documentation.
     */
    suspend fun diagnose(trace: Int): Diagnosis? =
        call { it.diagnose(trace) }

    /**
     * The printer's counters (paper printed, slips, reprints, faults by kind, paper changes)
     * and the paper-low forecast.
     *
     * @throws PosException see the class documentation.
     */
    suspend fun printerHealth(): PrinterHealth =
        call { it.printerHealth() }

    /**
     * The electronic receipt of [trace]'s [copy] (`null`: the merchant copy): the slip with
     * its verification QR code as PNG bytes, the code's text (`PR1|…`, show it as a QR code
     * on screen), and whether the journal counts the copy as delivered electronically.
     *
     * @throws PosException see the class documentation.
     */
    suspend fun eReceipt(trace: Int, copy: String? = null): EReceipt =
        call { it.eReceipt(trace, copy) }

    /**
     * Checks a scanned e-receipt code against this terminal's journal and returns its
     * transaction.
     *
     * @throws PosException.Refused `RECEIPT_BAD_MAC`, `RECEIPT_MISMATCH`, … : do not accept it.
     */
    suspend fun verifyEReceipt(payload: String): Transaction =
        call { it.verifyEReceipt(payload) }

    /**
     * [trace]'s [copy] (`null`: the merchant copy) drawn as the printer prints it now, as PNG
     * bytes (`BitmapFactory.decodeByteArray`).
     *
     * @throws PosException see the class documentation.
     */
    suspend fun slipPreview(trace: Int, copy: String? = null): ByteArray =
        call { it.slipPreview(trace, copy) }

    /**
     * The whole journal as JSON (the README's export contract): an array with one object per
     * transaction. Card numbers are masked.
     *
     * @throws PosException see the class documentation.
     */
    suspend fun exportJson(): String =
        call { it.exportJson() }

    /**
     * Stops the terminal and frees the native object. Exchanges in flight are abandoned (the
     * next [open] of the journal reverses them); calls still waiting end with
     * [PosException.Closed], and later calls throw it. Idempotent and thread-safe; it blocks
     * until the core has stopped (a second, concurrent call returns at once).
     *
     * It works from any thread, including the core's own: from a [PrinterDevice] callback, and
     * from a collector of [events] running on `Dispatchers.Unconfined` (that is, inside the
     * delivery of an event). In that last case it returns before the core has stopped,
     * because stopping waits for the event thread to finish delivering.
     */
    override fun close() {
        if (!closed.compareAndSet(false, true)) return
        // The native shutdown blocks on the core's runtime and joins its event thread: on the
        // event thread itself (a collector on Dispatchers.Unconfined) that panics ("Cannot
        // start a runtime from within a runtime"), and so it would on a runtime worker. A
        // thread of its own can do it from anywhere.
        var failure: Throwable? = null
        val stopper = thread(name = "poscore-close", isDaemon = true) {
            try {
                terminal.shutdown()
            } catch (t: Throwable) {
                failure = t
            } finally {
                terminal.destroy()
            }
        }
        if (listener.isDelivering()) return
        var interrupted = false
        while (stopper.isAlive) {
            try {
                stopper.join()
            } catch (e: InterruptedException) {
                interrupted = true
            }
        }
        if (interrupted) Thread.currentThread().interrupt()
        failure?.let { throw it }
    }

    /** Runs one generated suspend call on [Dispatchers.IO], mapping the closed cases. */
    private suspend fun <T> call(block: suspend (PosTerminal) -> T): T = withContext(Dispatchers.IO) {
        if (closed.get()) throw closedException(null)
        try {
            block(terminal)
        } catch (e: IllegalStateException) {
            // The generated object throws IllegalStateException once destroyed: close() ran
            // between the check above and the call.
            if (closed.get()) throw closedException(e) else throw e
        } catch (e: PosException.Storage) {
            // A call in flight when close() stopped the terminal gets the core's
            // TERMINAL_STOPPED; to the caller that is a closed terminal, not a storage fault.
            if (closed.get() && e.code == "TERMINAL_STOPPED") throw closedException(e) else throw e
        }
    }

    /** Delivers the core's events (on its event thread) to [flow]. */
    private class FlowListener : EventListener {
        val flow = MutableSharedFlow<TerminalEvent>(
            replay = 0,
            extraBufferCapacity = EVENT_BUFFER,
            onBufferOverflow = BufferOverflow.DROP_OLDEST,
        )

        @Volatile
        private var deliveringOn: Thread? = null

        override fun onEvent(event: TerminalEvent) {
            // The core's event thread lives as long as the terminal: keep it attached to the
            // JVM instead of attaching and detaching it around every event (JNA's default for
            // native threads; ~40 µs an event on a desktop JVM). JNA detaches it when the
            // thread ends. A no-op when the core attached it itself (Android, after
            // System.loadLibrary).
            Native.detach(false)
            deliveringOn = Thread.currentThread()
            try {
                // With DROP_OLDEST, tryEmit never fails and never blocks the core.
                flow.tryEmit(event)
            } finally {
                deliveringOn = null
            }
        }

        /** Whether the current thread is inside [onEvent]. */
        fun isDelivering(): Boolean = deliveringOn === Thread.currentThread()
    }

    /** Opening a terminal. */
    companion object {
        /** Events a collector of [events] may fall behind before the oldest are dropped. */
        private const val EVENT_BUFFER: Int = 1024

        /**
         * Opens (blocking: journal + recovery). Call from a background thread, or use
         * [openAsync].
         *
         * Opens (or creates) the journal at [journalPath], runs recovery (transactions in flight
         * at a crash become unknown and are reversed; unprinted slips are queued again), and
         * starts the terminal: a sign-on, then the work recovery found. [keys] gives the
         * PAN-hash key and computes MACs (the terminal's secure module); [printer] prints the
         * slips. Both are called on the core's threads, never the main thread.
         *
         * @throws PosException.InvalidInput for a bad [config] (e.g. `CONFIG_RANGE`) or a bad key.
         * @throws PosException.Storage if the journal cannot be opened.
         * @throws PosException.Device if [keys] fails.
         */
        fun open(
            journalPath: String,
            keys: KeyProvider,
            printer: PrinterDevice,
            config: TerminalConfig = defaultConfig(),
        ): PosCore {
            val listener = FlowListener()
            val terminal = PosTerminal.open(config, journalPath, keys, printer, listener)
            return PosCore(terminal, listener)
        }

        /**
         * [open] on [Dispatchers.IO]: safe to call from the main thread.
         *
         * @throws PosException as [open].
         */
        suspend fun openAsync(
            journalPath: String,
            keys: KeyProvider,
            printer: PrinterDevice,
            config: TerminalConfig = defaultConfig(),
        ): PosCore = withContext(Dispatchers.IO) { open(journalPath, keys, printer, config) }

        private fun closedException(cause: Throwable?): PosException.Closed {
            val e = PosException.Closed(
                code = "TERMINAL_CLOSED",
                messageZh = "终端已关闭：请重新打开终端",
                messageEn = "the terminal is closed; open it again",
            )
            if (cause != null) e.initCause(cause)
            return e
        }
    }
}
