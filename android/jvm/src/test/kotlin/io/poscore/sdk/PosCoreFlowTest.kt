package io.poscore.sdk

import io.poscore.ffi.PosException
import io.poscore.ffi.PrintJobState
import io.poscore.ffi.ReversalState
import io.poscore.ffi.SoftwarePrinter
import io.poscore.ffi.TerminalEvent
import io.poscore.ffi.TxnKind
import io.poscore.ffi.TxnState
import io.poscore.ffi.defaultConfig
import io.poscore.ffi.liveTerminalCount
import java.nio.file.Path
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir

/** The pre-auth flows through the facade, against the real library and its simulated host. */
class PosCoreFlowTest {
    @TempDir
    lateinit var dir: Path

    @Test
    fun `an approved preauth prints the merchant and the cardholder copy with the PAN masked`() = runBlocking {
        SoftwarePrinter().use { printer ->
            softwareKeys().use { keys ->
                PosCore.open(journalIn(dir), keys, printer).use { pos ->
                    assertTrue(pos.isOpen)
                    val requestId = newRequestId("approve")
                    val t = pos.preauth(requestId, "100.00", PAN, EXPIRY)

                    assertEquals(TxnState.APPROVED, t.state)
                    assertEquals(TxnKind.PRE_AUTH, t.kind)
                    assertEquals("00", t.responseCode)
                    assertTrue(!t.authCode.isNullOrBlank(), "auth code: ${t.authCode}")
                    assertTrue(!t.rrn.isNullOrBlank(), "rrn: ${t.rrn}")
                    assertEquals(10_000L, t.amountMinor)
                    assertEquals("100.00", t.amountText)
                    assertEquals("CNY", t.currency)
                    assertEquals(requestId, t.requestId)
                    assertTrue(t.trace in 1..999_999)
                    assertTrue(t.maskedPan.startsWith("622202") && t.maskedPan.endsWith("0128"), t.maskedPan)
                    assertFalse(t.maskedPan.contains("1234567890"), t.maskedPan)
                    assertNull(t.reversal)

                    pos.waitIdle()
                    val slips = printer.printed()
                    assertEquals(listOf("merchant", "cardholder"), slips.map { it.copy })
                    for (slip in slips) {
                        assertEquals(t.trace, slip.trace)
                        assertFalse(slip.reprint)
                        val text = slip.lines.joinToString("\n")
                        assertTrue(text.contains(t.maskedPan), "slip shows the masked PAN:\n$text")
                        assertFalse(text.contains(PAN), "slip never shows the full PAN:\n$text")
                        assertTrue(text.contains(t.authCode!!), "slip shows the auth code:\n$text")
                        assertTrue(text.contains("100.00"), "slip shows the amount:\n$text")
                    }
                    assertTrue(slips[0].lines.any { it.contains("MERCHANT COPY") })
                    assertTrue(slips[1].lines.any { it.contains("CARDHOLDER COPY") })

                    val shown = assertNotNull(pos.show(t.trace))
                    assertEquals(TxnState.APPROVED, shown.state)
                    assertEquals(listOf(PrintJobState.PRINTED, PrintJobState.PRINTED), shown.printJobs.map { it.state })
                    assertEquals(listOf(t.trace), pos.list().map { it.trace })
                    val json = pos.exportJson()
                    assertTrue(json.startsWith("[") && json.contains(t.maskedPan) && !json.contains(PAN), json)
                }
            }
        }
    }

    @Test
    fun `a lost answer makes the preauth unknown and the reversal finishes it`() = runBlocking {
        SoftwarePrinter().use { printer ->
            softwareKeys().use { keys ->
                PosCore.open(journalIn(dir), keys, printer).use { pos ->
                    val t = pos.preauth(newRequestId(), "10.98", PAN, EXPIRY)
                    assertEquals(TxnState.UNKNOWN, t.state)
                    assertNull(t.authCode)

                    pos.waitIdle()
                    val reversed = pos.awaitTransaction(t.trace) { it.state == TxnState.REVERSED }
                    val reversal = assertNotNull(reversed.reversal)
                    assertEquals(ReversalState.DONE, reversal.state)
                    assertTrue(reversal.attempts >= 1)
                    assertTrue(reversed.printJobs.isEmpty(), "no slip for a reversed preauth: ${reversed.printJobs}")
                    assertTrue(printer.printed().isEmpty())
                }
            }
        }
    }

    @Test
    fun `a declined preauth and a timed-out one`() = runBlocking {
        SoftwarePrinter().use { printer ->
            softwareKeys().use { keys ->
                PosCore.open(journalIn(dir), keys, printer).use { pos ->
                    val declined = pos.preauth(newRequestId(), "10.51", PAN, EXPIRY)
                    assertEquals(TxnState.DECLINED, declined.state)
                    assertEquals("51", declined.responseCode)

                    val timedOut = pos.preauth(newRequestId(), "10.68", PAN, EXPIRY)
                    assertEquals(TxnState.UNKNOWN, timedOut.state)
                    // The host never saw it: the reversal is answered 25, which also ends it.
                    val reversed = pos.awaitTransaction(timedOut.trace) { it.state == TxnState.REVERSED }
                    assertEquals(ReversalState.DONE, reversed.reversal?.state)

                    pos.waitIdle()
                    assertTrue(printer.printed().isEmpty(), "nothing approved, nothing printed")
                }
            }
        }
    }

    @Test
    fun `a preauth in flight when the app is killed is reversed after the restart`() = runBlocking {
        val journal = journalIn(dir)
        val baseline = liveTerminalCount()
        val slow = defaultConfig().copy(simHostDelayMs = 1_500)
        SoftwarePrinter().use { printer ->
            softwareKeys().use { keys ->
                val first = PosCore.open(journal, keys, printer, slow)
                val recorder = EventRecorder(first.events).start(this)
                val inFlight = async(Dispatchers.Default) {
                    runCatching { first.preauth("req-killed", "20.00", PAN, EXPIRY) }
                }
                // The sign-on went (1.5 s), then the pre-auth went out: it is journaled as sending.
                recorder.awaitUntil(what = "SENDING of the pre-auth") { events ->
                    events.any { it is TerminalEvent.TransactionChanged && it.transaction.requestId == "req-killed" && it.transaction.state == TxnState.SENDING }
                }
                val trace = recorder.events.filterIsInstance<TerminalEvent.TransactionChanged>()
                    .first { it.transaction.requestId == "req-killed" }.transaction.trace

                first.close() // the app is killed while the host has not answered yet
                recorder.stop()
                assertFalse(first.isOpen)
                val outcome = inFlight.await()
                val error = outcome.exceptionOrNull()
                assertTrue(error is PosException.Closed, "the waiting call ends with Closed, got $outcome")
                assertBilingual(error, "TERMINAL_CLOSED")

                PosCore.open(journal, keys, printer).use { second ->
                    val info = second.recover()
                    assertEquals(1, info.madeUnknown, "$info")
                    assertEquals(0, info.madeNotSent, "$info")
                    second.waitIdle()
                    val t = second.awaitTransaction(trace) { it.state == TxnState.REVERSED }
                    assertEquals("req-killed", t.requestId)
                    assertEquals(ReversalState.DONE, t.reversal?.state)
                    // The same request id after the restart is the same transaction, not a new one.
                    val again = second.preauth("req-killed", "20.00", PAN, EXPIRY)
                    assertEquals(trace, again.trace)
                    assertEquals(TxnState.REVERSED, again.state)
                    assertEquals(0, second.recover().reversalsPending)
                }
                assertTrue(printer.printed().isEmpty())
            }
        }
        assertEquals(baseline, liveTerminalCount())
    }

    @Test
    fun `events arrive in order`() = runBlocking {
        SoftwarePrinter().use { printer ->
            softwareKeys().use { keys ->
                PosCore.open(journalIn(dir), keys, printer).use { pos ->
                    val recorder = EventRecorder(pos.events).start(this)
                    val t = pos.preauth(newRequestId(), "88.00", PAN, EXPIRY)
                    assertEquals(TxnState.APPROVED, t.state)
                    pos.waitIdle()
                    recorder.awaitUntil(what = "both slips PRINTED") { events ->
                        events.filter { it is TerminalEvent.PrintJobChanged && it.trace == t.trace && it.job.state == PrintJobState.PRINTED }
                            .map { (it as TerminalEvent.PrintJobChanged).job.jobId }.toSet().size == 2
                    }
                    recorder.stop()
                    val events = recorder.events.toList()

                    // The transaction's own states: monotone, sending before approved, nothing else.
                    val changes = events.withIndex().filter { (_, e) -> e is TerminalEvent.TransactionChanged && e.transaction.trace == t.trace }
                    val states = changes.map { (it.value as TerminalEvent.TransactionChanged).transaction.state }
                    val rank = mapOf(TxnState.QUEUED to 0, TxnState.SENDING to 1, TxnState.APPROVED to 2)
                    assertTrue(states.all { it in rank }, "states: $states")
                    assertEquals(states.sortedBy { rank.getValue(it) }, states, "monotone: $states")
                    assertTrue(TxnState.SENDING in states, "states: $states")
                    assertEquals(TxnState.APPROVED, states.last(), "states: $states")
                    val approvedAt = changes.first { (it.value as TerminalEvent.TransactionChanged).transaction.state == TxnState.APPROVED }.index

                    // Each slip goes queued → sending → printed, after the approval. Every change of
                    // a transaction's slips reports all of them, so a state may repeat.
                    val jobs = events.withIndex().filter { (_, e) -> e is TerminalEvent.PrintJobChanged && e.trace == t.trace }
                    // The engine hands the first slip to the printer in the same step as the
                    // approval (committed first), and may report its SENDING before the
                    // transaction's APPROVED; no slip is reported printed before it.
                    val printedAt = jobs.filter { (it.value as TerminalEvent.PrintJobChanged).job.state == PrintJobState.PRINTED }
                    assertTrue(printedAt.all { it.index > approvedAt }, "PRINTED after APPROVED: $events")
                    val byCopy = jobs
                        .groupBy({ (it.value as TerminalEvent.PrintJobChanged).job.copy }, { (it.value as TerminalEvent.PrintJobChanged).job.state })
                        .mapValues { (_, states) -> states.filterIndexed { i, s -> i == 0 || states[i - 1] != s } }
                    assertEquals(setOf("merchant", "cardholder"), byCopy.keys)
                    for ((copy, jobStates) in byCopy) {
                        assertEquals(jobStates.sortedBy { it.ordinal }, jobStates, "$copy: $jobStates")
                        assertEquals(PrintJobState.PRINTED, jobStates.last(), "$copy: $jobStates")
                        assertEquals(1, jobStates.count { it == PrintJobState.PRINTED }, "$copy: $jobStates")
                        assertTrue(PrintJobState.SENDING in jobStates, "$copy: $jobStates")
                    }
                    // The merchant copy is printed before the cardholder copy.
                    val printedOrder = jobs.map { it.value as TerminalEvent.PrintJobChanged }.filter { it.job.state == PrintJobState.PRINTED }.map { it.job.copy }.distinct()
                    assertEquals(listOf("merchant", "cardholder"), printedOrder)
                }
            }
        }
    }
}
