package io.poscore.sdk

import io.poscore.ffi.PosException
import io.poscore.ffi.PrintJobState
import io.poscore.ffi.SoftwarePrinter
import io.poscore.ffi.TerminalEvent
import io.poscore.ffi.TxnState
import io.poscore.ffi.defaultConfig
import io.poscore.ffi.liveTerminalCount
import java.nio.file.Path
import kotlin.random.Random
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertTrue
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.awaitAll
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeout
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir

/** Wrong use of the facade: closed terminals, bad input, refused rules, races, leaks. */
class PosCoreMisuseTest {
    @TempDir
    lateinit var dir: Path

    @Test
    fun `every call after close throws Closed`() = runBlocking {
        SoftwarePrinter().use { printer ->
            softwareKeys().use { keys ->
                val pos = PosCore.open(journalIn(dir), keys, printer)
                val approved = pos.preauth(newRequestId(), "5.00", PAN, EXPIRY)
                pos.close()
                assertFalse(pos.isOpen)
                val calls: List<Pair<String, suspend () -> Any?>> = listOf(
                    "preauth" to { pos.preauth(newRequestId(), "1.00", PAN, EXPIRY) },
                    "complete" to { pos.complete(newRequestId(), approved.trace, "5.00") },
                    "voidPreauth" to { pos.voidPreauth(newRequestId(), approved.trace) },
                    "completeVoid" to { pos.completeVoid(newRequestId(), approved.trace) },
                    "settle" to { pos.settle(newRequestId()) },
                    "retryReversal" to { pos.retryReversal(newRequestId(), approved.trace) },
                    "recover" to { pos.recover() },
                    "waitIdle" to { pos.waitIdle() },
                    "list" to { pos.list() },
                    "show" to { pos.show(approved.trace) },
                    "exportJson" to { pos.exportJson() },
                )
                for ((name, call) in calls) {
                    val e = assertFailsWith<PosException.Closed>(name) { call() }
                    assertBilingual(e, "TERMINAL_CLOSED")
                }
                pos.close() // idempotent
                assertFalse(pos.isOpen)
            }
        }
    }

    @Test
    fun `invalid input is refused with its code and both languages`() = runBlocking {
        SoftwarePrinter().use { printer ->
            softwareKeys().use { keys ->
                PosCore.open(journalIn(dir), keys, printer).use { pos ->
                    suspend fun invalid(code: String, call: suspend () -> Any?) {
                        val e = assertFailsWith<PosException.InvalidInput>(code) { call() }
                        assertBilingual(e, code)
                    }
                    invalid("AMOUNT_TOO_MANY_DECIMALS") { pos.preauth(newRequestId(), "1.234", PAN, EXPIRY) }
                    invalid("AMOUNT_ZERO") { pos.preauth(newRequestId(), "0.00", PAN, EXPIRY) }
                    invalid("AMOUNT_INVALID_CHARACTER") { pos.preauth(newRequestId(), "12a", PAN, EXPIRY) }
                    invalid("PAN_LUHN") { pos.preauth(newRequestId(), "1.00", "6222021234567890123", EXPIRY) }
                    invalid("PAN_LENGTH") { pos.preauth(newRequestId(), "1.00", "62220212", EXPIRY) }
                    invalid("EXPIRY_MONTH") { pos.preauth(newRequestId(), "1.00", PAN, "3013") }
                    invalid("ID_FORMAT") { pos.preauth("", "1.00", PAN, EXPIRY) }
                    invalid("ID_FORMAT") { pos.preauth("has space", "1.00", PAN, EXPIRY) }
                    invalid("ID_SIX_DIGIT") { pos.show(0) }
                    invalid("ID_SIX_DIGIT") { pos.voidPreauth(newRequestId(), 0) }
                    invalid("ID_SIX_DIGIT") { pos.complete(newRequestId(), 1_000_000, "1.00") }
                    // Nothing invalid reached the journal.
                    assertEquals(emptyList(), pos.list())
                }
                val baseline = liveTerminalCount()
                for (bad in listOf(
                    defaultConfig().copy(slipCopies = 9),
                    defaultConfig().copy(completionLimitPercent = 99),
                    defaultConfig().copy(hostTimeoutMs = 10),
                )) {
                    val e = assertFailsWith<PosException.InvalidInput>("$bad") { PosCore.open(journalIn(dir, "bad.db"), keys, printer, bad) }
                    assertBilingual(e, "CONFIG_RANGE")
                }
                val e = assertFailsWith<PosException.InvalidInput> {
                    PosCore.open(journalIn(dir, "bad.db"), keys, printer, defaultConfig().copy(terminalId = "T1"))
                }
                assertBilingual(e, "ID_FORMAT")
                assertEquals(baseline, liveTerminalCount(), "a refused open leaves nothing alive")
            }
        }
    }

    @Test
    fun `rules refuse a void of an unknown trace`() = runBlocking {
        SoftwarePrinter().use { printer ->
            softwareKeys().use { keys ->
                PosCore.open(journalIn(dir), keys, printer).use { pos ->
                    val e = assertFailsWith<PosException.Refused> { pos.voidPreauth(newRequestId(), 4242) }
                    assertBilingual(e, "ORIGINAL_NOT_FOUND")
                    val c = assertFailsWith<PosException.Refused> { pos.complete(newRequestId(), 4242, "1.00") }
                    assertBilingual(c, "ORIGINAL_NOT_FOUND")
                    assertEquals(null, pos.show(4242))
                }
            }
        }
    }

    @Test
    fun `fifty concurrent preauths, some with a repeated request id`() = runBlocking {
        SoftwarePrinter().use { printer ->
            softwareKeys().use { keys ->
                PosCore.open(journalIn(dir), keys, printer).use { pos ->
                    val distinct = (1..40).map { "conc-$it" }
                    val calls = (distinct + distinct.take(10)).shuffled(Random(7)) // 50 calls, 10 ids twice
                    val results = withContext(Dispatchers.Default) {
                        calls.map { id -> async { id to pos.preauth(id, "1.00", PAN, EXPIRY) } }.awaitAll()
                    }
                    assertEquals(50, results.size)
                    val tracesById = results.groupBy({ it.first }, { it.second.trace })
                    assertEquals(distinct.toSet(), tracesById.keys)
                    for ((id, traces) in tracesById) {
                        assertEquals(1, traces.toSet().size, "one trace per request id: $id → $traces")
                        assertEquals(if (id in distinct.take(10)) 2 else 1, traces.size)
                    }
                    val traces = tracesById.values.map { it.first() }
                    assertEquals(40, traces.toSet().size, "traces are unique: $traces")
                    for ((id, t) in results) {
                        assertEquals(id, t.requestId)
                        assertTrue(t.state in setOf(TxnState.QUEUED, TxnState.SENDING, TxnState.APPROVED), "$id: ${t.state}")
                    }

                    pos.waitIdle()
                    val journal = pos.list(100)
                    assertEquals(40, journal.size, "one transaction per distinct request id")
                    assertEquals(distinct.toSet(), journal.map { it.requestId }.toSet())
                    assertTrue(journal.all { it.state == TxnState.APPROVED }, journal.map { it.state }.toString())
                    assertEquals(80, printer.printed().size, "two slips each")
                }
            }
        }
    }

    @Test
    fun `no native terminal outlives use or a double close`() = runBlocking {
        SoftwarePrinter().use { printer ->
            softwareKeys().use { keys ->
                val baseline = liveTerminalCount()
                PosCore.open(journalIn(dir), keys, printer).use { pos ->
                    assertEquals(baseline + 1, liveTerminalCount())
                    pos.preauth(newRequestId(), "3.00", PAN, EXPIRY)
                    pos.waitIdle()
                }
                assertEquals(baseline, liveTerminalCount(), "after use {}")

                val pos = PosCore.open(journalIn(dir), keys, printer)
                assertEquals(baseline + 1, liveTerminalCount())
                assertEquals(1, pos.list().size)
                pos.close()
                pos.close()
                assertEquals(baseline, liveTerminalCount(), "after close() twice")

                // Reopening the journal many times leaves nothing behind either.
                repeat(20) { PosCore.openAsync(journalIn(dir), keys, printer).use { assertTrue(it.isOpen) } }
                assertEquals(baseline, liveTerminalCount(), "after 20 open/close")
            }
        }
    }

    @Test
    fun `Dispatchers Unconfined callers do not deadlock, and an Unconfined collector may close`() = runBlocking {
        SoftwarePrinter().use { printer ->
            softwareKeys().use { keys ->
                val baseline = liveTerminalCount()
                val pos = PosCore.open(journalIn(dir), keys, printer)
                // A bare uniffi suspend call deadlocks on Unconfined (uniffi#1901); the facade does not.
                val first = withTimeout(10_000) {
                    withContext(Dispatchers.Unconfined) {
                        val t = pos.preauth(newRequestId(), "2.00", PAN, EXPIRY)
                        pos.waitIdle()
                        pos.show(t.trace)
                    }
                }
                assertEquals(TxnState.APPROVED, first?.state)

                // An Unconfined collector runs on the core's event thread; closing from there
                // must neither deadlock nor crash.
                val closedFrom = CompletableDeferred<String>()
                val collector = launch(Dispatchers.Unconfined) {
                    pos.events.collect { e ->
                        if (e is TerminalEvent.PrintJobChanged && e.job.state == PrintJobState.PRINTED && !closedFrom.isCompleted) {
                            pos.close()
                            closedFrom.complete(Thread.currentThread().name)
                        }
                    }
                }
                pos.preauth(newRequestId(), "2.00", PAN, EXPIRY)
                val thread = withTimeout(10_000) { closedFrom.await() }
                collector.cancel()
                assertTrue(thread != Thread.currentThread().name, "closed from the event thread, not $thread")
                assertFalse(pos.isOpen)
                assertFailsWith<PosException.Closed> { pos.list() }
                withTimeout(10_000) { while (liveTerminalCount() != baseline) delay(10) }
            }
        }
    }

    @Test
    fun `new request ids are unique and follow the core's rule`() {
        val ids = (1..1000).map { newRequestId() }
        assertEquals(1000, ids.toSet().size)
        assertTrue(ids.all { it.startsWith("req-") && it.length == 40 })
        assertEquals(36, newRequestId("").length)
        assertEquals(64, newRequestId("p".repeat(27)).length)
        assertFailsWith<IllegalArgumentException> { newRequestId("p".repeat(28)) }
        assertFailsWith<IllegalArgumentException> { newRequestId("has space") }
    }
}
