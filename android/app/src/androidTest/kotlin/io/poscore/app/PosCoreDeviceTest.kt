package io.poscore.app

import androidx.test.ext.junit.runners.AndroidJUnit4
import androidx.test.platform.app.InstrumentationRegistry
import io.poscore.ffi.PosException
import io.poscore.ffi.PrintJobState
import io.poscore.ffi.ReversalState
import io.poscore.ffi.SoftwarePrinter
import io.poscore.ffi.TerminalConfig
import io.poscore.ffi.TerminalEvent
import io.poscore.ffi.TxnState
import io.poscore.ffi.defaultConfig
import io.poscore.sdk.PosCore
import io.poscore.sdk.android.PosCoreAndroid
import io.poscore.sdk.newRequestId
import java.io.File
import java.util.UUID
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.onSubscription
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeout
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNotNull
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.junit.runner.RunWith

/**
 * The SDK on a device (or emulator), against the in-process simulated acquirer: the real
 * `libposcore_ffi.so` for the device's ABI, loaded the Android way, its journal in the app's
 * private storage, the software printer.
 *
 * Run with `./gradlew :app:connectedDebugAndroidTest` (android/README.md).
 */
@RunWith(AndroidJUnit4::class)
class PosCoreDeviceTest {
    private val context = InstrumentationRegistry.getInstrumentation().targetContext
    private val journalName = "device-test-${UUID.randomUUID()}.db"
    private val opened = mutableListOf<PosCore>()

    @Before
    fun loadTheLibrary() {
        PosCoreAndroid.init(context)
        assertTrue(PosCoreAndroid.isLoaded)
    }

    @After
    fun closeAndDelete() {
        opened.forEach { it.close() }
        val journal = PosCoreAndroid.journalFile(context, journalName)
        for (suffix in listOf("", "-wal", "-shm")) File(journal.path + suffix).delete()
    }

    private fun open(config: TerminalConfig = defaultConfig(), printer: SoftwarePrinter = SoftwarePrinter()): PosCore = runBlocking {
        PosCoreAndroid.open(context, PosCoreAndroid.demoKeys(context), printer, config, journalName).also { opened += it }
    }

    @Test
    fun a_preauth_is_approved_and_its_slips_print() = runBlocking {
        val printer = SoftwarePrinter()
        val core = open(printer = printer)
        val requestId = newRequestId("it")
        val txn = core.preauth(requestId, "100.00", PAN, EXPIRY)
        assertEquals(TxnState.APPROVED, txn.state)
        assertNotNull(txn.authCode)
        assertEquals("622202*********0128", txn.maskedPan)

        core.waitIdle()
        assertEquals(listOf("merchant", "cardholder"), printer.printed().map { it.copy })
        assertTrue(core.show(txn.trace)!!.printJobs.all { it.state == PrintJobState.PRINTED })
        // One request, one transaction: the same request id again returns it, not a new one.
        assertEquals(txn.trace, core.preauth(requestId, "100.00", PAN, EXPIRY).trace)
        assertEquals(1, core.list(10).size)
    }

    @Test
    fun a_lost_answer_is_reversed() = runBlocking {
        val core = open()
        // The simulated acquirer approves amounts ending in .98, then loses the answer.
        val txn = core.preauth(newRequestId("it"), "10.98", PAN, EXPIRY)
        assertEquals(TxnState.UNKNOWN, txn.state)

        core.recover() // waits until the work due now (the reversal) is done
        val after = core.show(txn.trace)!!
        assertEquals(TxnState.REVERSED, after.state)
        assertEquals(ReversalState.DONE, after.reversal?.state)
        assertEquals("98", after.reversal?.reason)
    }

    @Test
    fun killed_mid_flight_then_recovered_on_restart() = runBlocking {
        // A slow acquirer, so the pre-auth is still in flight when the app "dies".
        val first = open(defaultConfig().copy(simHostDelayMs = 5_000))
        val subscribed = CompletableDeferred<Unit>()
        val sending = async(Dispatchers.Default) {
            first.events
                .onSubscription { subscribed.complete(Unit) }
                .first { it is TerminalEvent.TransactionChanged && it.transaction.state == TxnState.SENDING }
                as TerminalEvent.TransactionChanged
        }
        subscribed.await()
        val call = launch(Dispatchers.IO) {
            try {
                first.preauth(newRequestId("it"), "20.00", PAN, EXPIRY)
            } catch (_: PosException.Closed) {
                // Expected: the terminal goes away under the call.
            }
        }
        val inFlight = withTimeout(10_000) { sending.await() }.transaction

        // The app is killed: the terminal stops with the exchange in flight (the journal has it
        // as sent). tests/kill9.rs does the same with SIGKILL on the host.
        first.close()
        call.join()

        // The app starts again on the same journal: recovery makes the transaction unknown and
        // reverses it before anything else.
        val second = open()
        val info = second.recover()
        assertEquals(1, info.madeUnknown)
        val after = second.show(inFlight.trace)!!
        assertEquals(TxnState.REVERSED, after.state)
        assertEquals(ReversalState.DONE, after.reversal?.state)
    }

    private companion object {
        const val PAN = "6222021234567890128"
        const val EXPIRY = "3012"
    }
}
