package io.poscore.sdk

import io.poscore.ffi.PosException
import io.poscore.ffi.SoftwareKeyProvider
import io.poscore.ffi.TerminalEvent
import io.poscore.ffi.Transaction
import java.nio.file.Path
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.test.assertEquals
import kotlin.test.assertTrue
import kotlin.test.fail
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.Job
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.SharedFlow
import kotlinx.coroutines.flow.onSubscription
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeoutOrNull

/** A UnionPay test card that passes Luhn. */
const val PAN = "6222021234567890128"

/** Its expiry, YYMM (December 2030). */
const val EXPIRY = "3012"

/** Keys held in Rust memory: a 32-byte PAN-hash key and an 8-byte MAK. */
fun softwareKeys(): SoftwareKeyProvider =
    SoftwareKeyProvider(ByteArray(32) { (it * 7 + 1).toByte() }, ByteArray(8) { (0x11 * (it + 1)).toByte() })

/** A journal file in a test's temporary directory. */
fun journalIn(dir: Path, name: String = "journal.db"): String = dir.resolve(name).toString()

/** Code, Chinese and English message of any [PosException]. */
val PosException.parts: Triple<String, String, String>
    get() = when (this) {
        is PosException.InvalidInput -> Triple(code, messageZh, messageEn)
        is PosException.Refused -> Triple(code, messageZh, messageEn)
        is PosException.Storage -> Triple(code, messageZh, messageEn)
        is PosException.Closed -> Triple(code, messageZh, messageEn)
        is PosException.Device -> Triple(code, messageZh, messageEn)
        is PosException.Internal -> Triple(code, messageZh, messageEn)
    }

private val HAN = Regex("\\p{IsHan}")
private val LATIN_WORD = Regex("[A-Za-z]{3,}")

/** [e] has [code], a Chinese message (with Han characters) and an English one. */
fun assertBilingual(e: PosException, code: String) {
    val (actual, zh, en) = e.parts
    assertEquals(code, actual, "code of $e")
    assertTrue(HAN.containsMatchIn(zh), "Chinese message of $code: \"$zh\"")
    assertTrue(LATIN_WORD.containsMatchIn(en), "English message of $code: \"$en\"")
}

/** Polls [show] until [done] holds for the transaction [trace]; fails after [timeoutMs]. */
suspend fun PosCore.awaitTransaction(trace: Int, timeoutMs: Long = 15_000, done: (Transaction) -> Boolean): Transaction {
    var last: Transaction? = null
    val found = withTimeoutOrNull(timeoutMs) {
        while (true) {
            last = show(trace)
            if (last?.let(done) == true) break
            delay(20)
        }
        last
    }
    return found ?: fail("transaction $trace did not reach the expected state in $timeoutMs ms; last seen: $last")
}

/** Records every event of [flow] from the moment [start] returns. */
class EventRecorder(private val flow: SharedFlow<TerminalEvent>) {
    /** The events so far, in order. */
    val events = CopyOnWriteArrayList<TerminalEvent>()
    private val subscribed = CompletableDeferred<Unit>()
    private var job: Job? = null

    /** Subscribes in [scope] and waits until the subscription is live. */
    suspend fun start(scope: CoroutineScope): EventRecorder {
        job = scope.launch(Dispatchers.Default) {
            flow.onSubscription { subscribed.complete(Unit) }.collect { events += it }
        }
        subscribed.await()
        return this
    }

    /** Stops recording (the flow itself never ends). */
    fun stop() {
        job?.cancel()
    }

    /** Waits until [done] holds for the events so far; fails after [timeoutMs]. */
    suspend fun awaitUntil(timeoutMs: Long = 10_000, what: String, done: (List<TerminalEvent>) -> Boolean) {
        val ok = withTimeoutOrNull(timeoutMs) {
            while (!done(events)) delay(5)
            true
        }
        if (ok != true) fail("no $what within $timeoutMs ms; events: ${events.joinToString("\n")}")
    }
}
