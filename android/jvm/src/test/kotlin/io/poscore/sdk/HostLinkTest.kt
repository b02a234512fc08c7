package io.poscore.sdk

import io.poscore.ffi.HostConfig
import io.poscore.ffi.MacAlgorithm
import io.poscore.ffi.PosException
import io.poscore.ffi.ReversalState
import io.poscore.ffi.SoftwareKeyProvider
import io.poscore.ffi.SoftwarePrinter
import io.poscore.ffi.TerminalConfig
import io.poscore.ffi.TxnKind
import io.poscore.ffi.TxnState
import io.poscore.ffi.defaultConfig
import io.poscore.ffi.defaultHostConfig
import io.poscore.ffi.liveTerminalCount
import java.io.BufferedReader
import java.io.File
import java.io.InputStreamReader
import java.nio.file.Path
import java.util.concurrent.TimeUnit
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotNull
import kotlin.test.assertTrue
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir

/** The sim's test MAC key (`poscore_host::SimConfig::default()`): double-length, CUP ECB MAC. */
private val SIM_MAK = "0123456789ABCDEFFEDCBA9876543210".chunked(2).map { it.toInt(16).toByte() }.toByteArray()

/** The sim's test terminal master key: 16 × 0x11. */
private val SIM_TMK = ByteArray(16) { 0x11 }

private val PAN_KEY = ByteArray(32) { (it * 7 + 1).toByte() }

/**
 * The real host link from Kotlin: `TerminalConfig.host` pointing at `poscore host-sim` (ISO
 * 8583 over TCP on 127.0.0.1), MACs and the sign-on's working keys through a key provider.
 */
class HostLinkTest {
    @TempDir
    lateinit var dir: Path

    private lateinit var sim: Process
    private lateinit var address: String

    @BeforeEach
    fun startHostSim() {
        val cli = System.getProperty("poscore.cli") ?: error("system property poscore.cli (the poscore binary) is not set")
        check(File(cli).canExecute()) { "$cli not found: build it with `cargo build -p poscore-cli`" }
        sim = ProcessBuilder(cli, "host-sim", "--listen", "127.0.0.1:0")
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start()
        val reader = BufferedReader(InputStreamReader(sim.inputStream))
        // "host-sim listening on 127.0.0.1:P" (possibly with more words after the address)
        val line = generateSequence { reader.readLine() }.firstOrNull { it.startsWith("host-sim listening on ") }
            ?: error("host-sim did not say where it listens")
        val words = line.split(" ")
        address = words[words.indexOf("on") + 1]
        assertTrue(Regex("""127\.0\.0\.1:\d+""").matches(address), line)
    }

    @AfterEach
    fun stopHostSim() {
        sim.destroy()
        sim.waitFor(10, TimeUnit.SECONDS)
    }

    /** A terminal against the sim: 2 s for a reply, 5 s for the driver. */
    private fun config(): TerminalConfig = defaultConfig().copy(
        hostTimeoutMs = 5_000,
        host = HostConfig(address = address, connectTimeoutMs = 2_000, readTimeoutMs = 2_000, macAlgorithm = MacAlgorithm.CUP_ECB),
    )

    @Test
    fun `sign-on, preauth, completion, a lost answer reversed, and a balanced settlement over ISO 8583`() = runBlocking {
        SoftwarePrinter().use { printer ->
            SoftwareKeyProvider.withMasterKey(PAN_KEY, SIM_MAK, SIM_TMK).use { keys ->
                PosCore.open(journalIn(dir), keys, printer, config()).use { pos ->
                    val signedOn = pos.signOn()
                    assertEquals(address, signedOn.host)
                    assertTrue(signedOn.keysInstalled, signedOn.toString())
                    assertEquals(keys.macKeyCheck(), signedOn.macKeyCheck)
                    assertTrue(signedOn.messageEn.contains("signed on") && signedOn.messageZh.contains("签到成功"), signedOn.toString())

                    val preauth = pos.preauth(newRequestId("pa"), "100.00", PAN, EXPIRY)
                    assertEquals(TxnState.APPROVED, preauth.state, preauth.toString())
                    assertEquals("00", preauth.responseCode)
                    assertTrue(!preauth.authCode.isNullOrBlank(), "auth code: ${preauth.authCode}")
                    assertTrue(!preauth.rrn.isNullOrBlank(), "rrn: ${preauth.rrn}")

                    val completion = pos.complete(newRequestId("pc"), preauth.trace, "100.00")
                    assertEquals(TxnState.APPROVED, completion.state, completion.toString())
                    assertEquals(TxnKind.COMPLETION, completion.kind)
                    assertEquals(preauth.trace, completion.originalTrace)
                    assertEquals(TxnState.COMPLETED, pos.show(preauth.trace)?.state)

                    // .98: the sim approves and holds the money, but the answer never comes.
                    val lost = pos.preauth(newRequestId("lost"), "30.98", PAN, EXPIRY)
                    assertEquals(TxnState.UNKNOWN, lost.state, lost.toString())
                    assertFalse(lost.reversal == null, "a reversal is due: $lost")

                    // The reversal goes before the next financial message.
                    val next = pos.preauth(newRequestId("next"), "20.00", PAN, EXPIRY)
                    assertEquals(TxnState.APPROVED, next.state, next.toString())
                    val reversed = assertNotNull(pos.show(lost.trace))
                    assertEquals(TxnState.REVERSED, reversed.state, reversed.toString())
                    assertEquals(ReversalState.DONE, reversed.reversal?.state, reversed.toString())
                    assertTrue(reversed.updatedAtMs <= next.updatedAtMs, "reversed before the next pre-auth was answered")

                    val settlement = pos.settle(newRequestId("settle"))
                    assertTrue(settlement.balanced, settlement.toString())
                    assertEquals(1, settlement.count, "one completion: $settlement")
                    assertEquals(10_000L, settlement.amountMinor)
                    assertEquals(preauth.batch, settlement.batch)
                    assertEquals(settlement.batch + 1, settlement.nextBatch)
                    pos.waitIdle()
                }
            }
        }
    }

    @Test
    fun `working keys the key provider refuses fail the sign-on and keep transactions from the host`() = runBlocking {
        SoftwarePrinter().use { printer ->
            // A master key that is not the host's: the MAC key's check value cannot match.
            SoftwareKeyProvider.withMasterKey(PAN_KEY, SIM_MAK, ByteArray(16) { 0x22 }).use { keys ->
                PosCore.open(journalIn(dir), keys, printer, config()).use { pos ->
                    val e = assertFailsWith<PosException.Device> { pos.signOn() }
                    assertBilingual(e, "KEY_INSTALL_FAILED")
                    assertTrue(e.messageEn.contains("KEY_CHECK_VALUE"), e.messageEn)

                    val refused = assertFailsWith<PosException> { pos.preauth(newRequestId("pa"), "100.00", PAN, EXPIRY) }
                    assertBilingual(refused, "KEY_INSTALL_FAILED")
                    val kept = pos.list()
                    assertTrue(kept.all { it.state == TxnState.NOT_SENT }, "nothing reached the host: $kept")
                }
            }
        }
    }

    @Test
    fun `a bad host configuration is refused with a clear code`() {
        SoftwarePrinter().use { printer ->
            SoftwareKeyProvider.withMasterKey(PAN_KEY, SIM_MAK, SIM_TMK).use { keys ->
                val baseline = liveTerminalCount()
                val cases = listOf(
                    defaultHostConfig("127.0.0.1") to "CONFIG_HOST_ADDRESS",
                    defaultHostConfig("127.0.0.1:99999") to "CONFIG_HOST_ADDRESS",
                    defaultHostConfig(address).copy(tpdu = "60000300") to "CONFIG_HOST_TPDU",
                    defaultHostConfig(address).copy(connectTimeoutMs = 0) to "CONFIG_RANGE",
                    defaultHostConfig(address).copy(readTimeoutMs = 60_000) to "CONFIG_RANGE",
                )
                for ((host, code) in cases) {
                    val e = assertFailsWith<PosException.InvalidInput>(host.toString()) {
                        PosCore.open(journalIn(dir, "bad.db"), keys, printer, defaultConfig().copy(host = host))
                    }
                    assertBilingual(e, code)
                }
                assertEquals(baseline, liveTerminalCount())
                assertEquals("6000030000", defaultHostConfig(address).tpdu)
                assertEquals(MacAlgorithm.CUP_ECB, defaultHostConfig(address).macAlgorithm)
            }
        }
    }
}
