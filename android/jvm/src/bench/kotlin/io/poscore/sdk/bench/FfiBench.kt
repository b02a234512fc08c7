package io.poscore.sdk.bench

import com.sun.jna.Native
import io.poscore.ffi.EventListener
import io.poscore.ffi.PosTerminal
import io.poscore.ffi.SoftwareKeyProvider
import io.poscore.ffi.SoftwarePrinter
import io.poscore.ffi.TerminalEvent
import io.poscore.ffi.TxnState
import io.poscore.ffi.UniffiRustCallStatus
import io.poscore.ffi.defaultConfig
import io.poscore.ffi.liveTerminalCount
import io.poscore.sdk.PosCore
import io.poscore.sdk.newRequestId
import java.io.File
import java.lang.management.ManagementFactory
import java.nio.file.Files
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicLong
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.cancel
import kotlinx.coroutines.channels.BufferOverflow
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking

/*
 * FFI benchmarks, Kotlin → Rust, in one JVM:
 *
 *   mvn -q -f android/jvm/pom.xml -Pbench test-compile exec:exec@bench
 *
 * (a) an empty Kotlin call (a method the JIT may not inline: -XX:CompileCommand=dontinline),
 * (b) synchronous FFI calls, (c) suspend FFI calls, (d) the cost of delivering one event from
 * the core's event thread to Kotlin. Each figure is the median of ROUNDS rounds, after warm-up.
 * The numbers are printed as a Markdown table for BENCHMARKS.md.
 */

private const val PAN = "6222021234567890128"
private const val EXPIRY = "3012"
private const val ROUNDS = 7

/** The target of the empty call. The pom keeps the JIT from inlining [call]. */
object EmptyTarget {
    @JvmStatic
    fun call(x: Long): Long = x + 1
}

/** Where results go so that the JIT cannot drop the work that made them. */
object Blackhole {
    @Volatile
    var sink: Long = 0

    fun consume(x: Long) {
        sink = sink xor x
    }
}

private class Row(val name: String, val nsPerOp: Double, val what: String, val gcShare: Double? = null)

private val rows = mutableListOf<Row>()

private fun gcMillis(): Long = ManagementFactory.getGarbageCollectorMXBeans().sumOf { it.collectionTime.coerceAtLeast(0) }

/**
 * Median ns/op of [ROUNDS] rounds of about [roundMs] ms each. Warm-up doubles the batch until
 * one batch takes [roundMs]/2 (at least [minWarmupMs] ms in all); that sets the round size.
 * Also reports the share of the rounds' time spent in GC pauses.
 */
private inline fun measure(name: String, what: String, roundMs: Long = 300, minWarmupMs: Long = 500, body: (Int) -> Long): Double {
    var acc = 0L
    var ops = 64
    val warmupStart = System.nanoTime()
    while (true) {
        val t0 = System.nanoTime()
        for (i in 0 until ops) acc += body(i)
        val elapsed = System.nanoTime() - t0
        if (elapsed >= roundMs * 500_000 && System.nanoTime() - warmupStart >= minWarmupMs * 1_000_000) {
            ops = (ops.toDouble() * roundMs * 1_000_000 / elapsed).toInt().coerceAtLeast(1)
            break
        }
        if (elapsed < roundMs * 500_000) ops *= 2
    }
    val gc0 = gcMillis()
    val start = System.nanoTime()
    val perOp = DoubleArray(ROUNDS) {
        val t0 = System.nanoTime()
        for (i in 0 until ops) acc += body(i)
        (System.nanoTime() - t0).toDouble() / ops
    }
    val gcShare = (gcMillis() - gc0) * 1_000_000.0 / (System.nanoTime() - start)
    Blackhole.consume(acc)
    perOp.sort()
    val median = perOp[ROUNDS / 2]
    rows += Row(name, median, what, gcShare)
    println(String.format("%-44s %12.1f ns/op   %d ops/round, GC %.0f%%, rounds: %s", name, median, ops, gcShare * 100, perOp.joinToString(" ") { String.format("%.0f", it) }))
    return median
}

/** The median of single timed calls, spaced out (a pause of 1 ms after every 10). */
private inline fun isolated(name: String, what: String, body: () -> Long): Double {
    var acc = 0L
    repeat(100_000) { acc += body() } // warm-up
    System.gc()
    Thread.sleep(200)
    val times = LongArray(3_000) { i ->
        val t0 = System.nanoTime()
        acc += body()
        val t = System.nanoTime() - t0
        if (i % 10 == 9) Thread.sleep(1)
        t
    }
    Blackhole.consume(acc)
    times.sort()
    val p50 = times[times.size / 2].toDouble()
    rows += Row(name, p50, what)
    println(String.format("%-44s %12.1f ns/op   p50 (p90 %d, p99 %d)", name, p50, times[times.size * 9 / 10], times[times.size * 99 / 100]))
    return p50
}

/** An event listener that stops the event thread at the first event after [arm] until [release]. */
private class GateListener(private val sink: (TerminalEvent) -> Unit) : EventListener {
    @Volatile private var armed = false
    @Volatile private var blocked = CountDownLatch(1)
    @Volatile private var gate = CountDownLatch(1)
    val delivered = AtomicInteger()
    val lastAt = AtomicLong()
    @Volatile var keepAttached = false

    fun arm() {
        blocked = CountDownLatch(1)
        gate = CountDownLatch(1)
        armed = true
    }

    fun awaitBlocked() = check(blocked.await(10, TimeUnit.SECONDS)) { "no event arrived" }

    fun release() = gate.countDown()

    override fun onEvent(event: TerminalEvent) {
        if (keepAttached) Native.detach(false)
        if (armed) {
            armed = false
            blocked.countDown()
            gate.await()
        }
        sink(event)
        delivered.incrementAndGet()
        lastAt.set(System.nanoTime())
    }
}

/**
 * (d) Event delivery under a backlog: the listener holds the event thread at the first event
 * while [preauths] pre-auths run to the end (their events queue in the core's broadcast
 * channel, 256 deep); then it lets go and times how fast the event thread drains the queue.
 * The drain rate is the cost of one event: the Rust side's receive and conversion, the JNA
 * upcall (with a thread attach/detach unless [keepAttached]), lifting the record in Kotlin,
 * and [sink]. [finishedAt] gives the time the last event was consumed, if a later stage
 * (a collector) finishes after the listener.
 */
private fun eventDrain(
    keys: SoftwareKeyProvider,
    printer: SoftwarePrinter,
    dir: File,
    preauths: Int,
    keepAttached: Boolean,
    sink: (TerminalEvent) -> Unit,
    finishedAt: ((Int) -> Long)? = null,
): Pair<Double, Int> {
    val listener = GateListener(sink)
    listener.keepAttached = keepAttached
    val journal = File.createTempFile("events", ".db", dir).apply { delete() }.path
    val terminal = PosTerminal.open(defaultConfig(), journal, keys, printer, listener)
    try {
        return runBlocking {
            terminal.waitIdle()
            val results = DoubleArray(ROUNDS + 1)
            var delivered = 0
            for (round in 0..ROUNDS) { // round 0 is the warm-up
                listener.arm()
                terminal.preauth(newRequestId("gate"), "1.00", PAN, EXPIRY) // makes the first event
                listener.awaitBlocked()
                val before = listener.delivered.get()
                repeat(preauths - 1) { terminal.preauth(newRequestId("gate"), "1.00", PAN, EXPIRY) }
                terminal.waitIdle() // every slip printed: all events made, all queued
                val t0 = System.nanoTime()
                listener.release()
                // Wait until nothing new arrives for 300 ms.
                var seen = -1
                while (listener.delivered.get() != seen) {
                    seen = listener.delivered.get()
                    Thread.sleep(300)
                }
                delivered = seen - before
                val end = finishedAt?.invoke(seen) ?: listener.lastAt.get()
                results[round] = (end - t0).toDouble() / delivered
            }
            val measured = results.copyOfRange(1, ROUNDS + 1).also { it.sort() }
            measured[ROUNDS / 2] to delivered
        }
    } finally {
        terminal.shutdown()
        terminal.destroy()
    }
}

fun main() {
    val dir = Files.createTempDirectory("poscore-bench").toFile()
    val cpu = runCatching { File("/proc/cpuinfo").readLines().first { it.startsWith("model name") }.substringAfter(":").trim() }.getOrDefault("?")
    val machine = "$cpu, ${Runtime.getRuntime().availableProcessors()} CPUs, ${System.getProperty("os.name")} ${System.getProperty("os.version")}, " +
        "JDK ${System.getProperty("java.vm.version")}, JNA ${Native.VERSION}, library ${System.getProperty("jna.library.path")}"
    println("machine: $machine")

    val keys = SoftwareKeyProvider(ByteArray(32) { it.toByte() }, ByteArray(8) { (it + 1).toByte() })
    val printer = SoftwarePrinter()
    val pos = PosCore.open(File(dir, "bench.db").path, keys, printer)
    val approved = runBlocking { pos.preauth(newRequestId("bench"), "1.00", PAN, EXPIRY).also { pos.waitIdle() } }
    check(approved.state == TxnState.APPROVED)
    // The generated object without the facade, for the facade's own cost.
    val raw = PosTerminal.open(defaultConfig(), File(dir, "raw.db").path, keys, printer, null)

    // (a) An empty Kotlin call.
    val empty = measure("(a) empty Kotlin call", "`EmptyTarget.call(i)`, not inlined (`-XX:CompileCommand=dontinline`), result to a blackhole") {
        EmptyTarget.call(it.toLong())
    }

    // (b) Synchronous FFI calls.
    measure("(b) sync FFI: liveTerminalCount()", "a top-level Rust function: one FFI call, an atomic load") { liveTerminalCount() }
    measure("(b) sync FFI: PosCore.isOpen", "facade flag + `PosTerminal.isOpen()`: handle clone + method call (2 FFI calls), a Rust mutex") {
        if (pos.isOpen) 1L else 0L
    }

    measure("(b) JNA only: new UniffiRustCallStatus()", "the status structure the generated code allocates for every FFI call (JNA `Structure`: native `Memory`, its cleaner, reflection); no native call") {
        UniffiRustCallStatus().code.toLong()
    }
    isolated("(b) sync FFI: liveTerminalCount(), isolated calls", "p50 of 3,000 single calls with a 1 ms pause after every 10: an app's pace, not a loop") { liveTerminalCount() }

    // (c) Suspend FFI calls, from runBlocking.
    runBlocking {
        measure("(c) suspend FFI: PosCore.waitIdle()", "facade: `withContext(IO)`, Rust future, runtime round trip, continuation callback; loop inside one runBlocking") {
            pos.waitIdle(); 1L
        }
        measure("(c) suspend FFI: PosCore.show(trace)", "as above + a journal read (SQLite) and a `Transaction` lifted to Kotlin") {
            (pos.show(approved.trace)?.trace ?: 0).toLong()
        }
        measure("(c) suspend FFI: PosTerminal.waitIdle() raw", "the generated call without the facade (no `withContext`), same loop") {
            raw.waitIdle(); 1L
        }
    }
    measure("(c) runBlocking { PosCore.waitIdle() }", "one runBlocking per call: a blocking caller (a Java thread)") {
        runBlocking { pos.waitIdle() }; 1L
    }

    // (d) Events.
    val preauths = 30
    val (rawEvent, n1) = eventDrain(keys, printer, dir, preauths, keepAttached = false, sink = { })
    rows += Row("(d) event → Kotlin listener, JNA default", rawEvent, "drain rate of a backlog of $n1 events: Rust receive + convert, JNA upcall with a thread attach + detach per event (JNA's default for a native thread), lift the `TerminalEvent`, an empty listener")
    println(String.format("%-44s %12.1f ns/event (%d events)", "(d) listener, JNA default", rawEvent, n1))
    val (attached, n2) = eventDrain(keys, printer, dir, preauths, keepAttached = true, sink = { })
    rows += Row("(d) event → Kotlin listener, thread kept attached", attached, "as above, but the listener calls `Native.detach(false)` as the facade does: the event thread stays attached (on Android the core attaches it itself after `System.loadLibrary`)")
    println(String.format("%-44s %12.1f ns/event (%d events)", "(d) listener, kept attached", attached, n2))

    val flow = MutableSharedFlow<TerminalEvent>(0, 1024, BufferOverflow.DROP_OLDEST)
    val collected = AtomicInteger()
    val collectedAt = AtomicLong()
    val collectorScope = CoroutineScope(Dispatchers.Default)
    collectorScope.launch {
        flow.collect { collected.incrementAndGet(); collectedAt.set(System.nanoTime()) }
    }
    Thread.sleep(100)
    val (viaFlow, n3) = eventDrain(keys, printer, dir, preauths, keepAttached = true, sink = { flow.tryEmit(it) }, finishedAt = { emitted ->
        // The collector may finish after the listener: wait until it has every event.
        val deadline = System.nanoTime() + 5_000_000_000
        while (collected.get() < emitted && System.nanoTime() < deadline) Thread.sleep(1)
        check(collected.get() >= emitted) { "the collector got ${collected.get()} of $emitted events" }
        collectedAt.get()
    })
    collectorScope.cancel()
    rows += Row("(d) event → SharedFlow collector (facade's path)", viaFlow, "the facade's listener code (`detach(false)`, `tryEmit` to a SharedFlow of 1024, DROP_OLDEST) and a collector on Dispatchers.Default; until the collector had the last event")
    println(String.format("%-44s %12.1f ns/event (%d events)", "(d) SharedFlow collector", viaFlow, n3))

    // Context: a whole approved pre-auth through the facade (journal commits dominate).
    runBlocking {
        measure("(context) preauth approved, no print wait", "`PosCore.preauth` of a new request id on the simulated host with 0 ms delay: SQLite commits, sign-on once, slips printed in the background") {
            pos.preauth(newRequestId("ctx"), "1.00", PAN, EXPIRY).trace.toLong()
        }
        pos.waitIdle()
    }

    println()
    println("machine: $machine")
    println()
    println("| measurement | ns per call | × empty call | GC share | what it measures |")
    println("|---|---:|---:|---:|---|")
    for (row in rows) {
        val gc = row.gcShare?.let { String.format("%.0f %%", it * 100) } ?: "–"
        println(String.format("| %s | %,.1f | %,.0f× | %s | %s |", row.name, row.nsPerOp, row.nsPerOp / empty, gc, row.what))
    }

    raw.shutdown()
    raw.destroy()
    pos.close()
    printer.destroy()
    keys.destroy()
    dir.deleteRecursively()
}
