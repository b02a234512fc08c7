package io.poscore.sdk

import io.poscore.ffi.PosException
import io.poscore.ffi.PosTerminal
import io.poscore.ffi.PrintJobState
import io.poscore.ffi.PrinterVendor
import io.poscore.ffi.SoftwarePrinter
import io.poscore.ffi.Transaction
import io.poscore.ffi.TxnState
import io.poscore.ffi.defaultConfig
import io.poscore.ffi.restoreJournal
import io.poscore.ffi.verifyJournalBackup
import java.nio.file.Files
import java.nio.file.Path
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import kotlin.test.fail
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.async
import kotlinx.coroutines.delay
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withTimeoutOrNull
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir

/**
 * Backup and restore of the journal from Kotlin: `PosTerminal.backup(path)` while
 * transactions run, and the top-level `restoreJournal(backupPath, journalPath, force)` while
 * no terminal has that journal open.
 */
class BackupRestoreTest {
    @TempDir
    lateinit var dir: Path

    private suspend fun PosTerminal.awaitHeld(trace: Int): Transaction {
        val held = withTimeoutOrNull(15_000) {
            while (true) {
                val t = show(trace)
                if (t != null && t.printJobs.any { it.state == PrintJobState.HELD }) return@withTimeoutOrNull t
                delay(20)
            }
            @Suppress("UNREACHABLE_CODE")
            null
        }
        return held ?: fail("the slips of $trace were never held; last seen: ${show(trace)}")
    }

    @Test
    fun `a backup taken while transactions run restores into a fresh dir with the same transactions`() = runBlocking {
        SoftwarePrinter().use { printer ->
            softwareKeys().use { keys ->
                val journal = journalIn(dir)
                val backupFile = dir.resolve("mid-day.db").toString()
                PosTerminal.open(defaultConfig(), journal, keys, printer, null).use { terminal ->
                    // A stream of pre-auths on other threads while the backup is taken.
                    val running = async(Dispatchers.Default) {
                        (1..40).map { i -> terminal.preauth(newRequestId(), "${10 + i}.00", PAN, EXPIRY) }
                    }
                    val started = withTimeoutOrNull(30_000) {
                        while (terminal.list(100).count { it.state == TxnState.APPROVED } < 5) delay(5)
                        true
                    }
                    assertEquals(true, started, "five approvals before the backup")
                    val before = terminal.list(1_000).filter { it.state == TxnState.APPROVED }
                    val info = terminal.backup(backupFile)
                    val all = running.await()
                    terminal.waitIdle()
                    assertEquals(40, all.size)
                    assertTrue(info.transactions >= before.size, "$info holds the ${before.size} approved before it")
                    assertEquals(backupFile, info.path)
                    assertEquals(info.transactions, verifyJournalBackup(backupFile).transactions)

                    // The journal in use is never replaced, not even with force.
                    val inUse = assertFailsWith<PosException.Refused> { restoreJournal(backupFile, journal, true) }
                    assertBilingual(inUse, "RESTORE_JOURNAL_IN_USE")

                    // Restore into a fresh directory (created), and open it.
                    val fresh = dir.resolve("fresh").resolve("journal.db").toString()
                    val restored = restoreJournal(backupFile, fresh, false)
                    assertNull(restored.replacedPath)
                    assertEquals(info.transactions, restored.restored.transactions)
                    SoftwarePrinter().use { other ->
                        PosTerminal.open(defaultConfig(), fresh, keys, other, null).use { again ->
                            val listed = again.list(1_000)
                            assertEquals(info.transactions, listed.size.toLong())
                            for (t in before) {
                                val found = assertNotNull(again.show(t.trace), "trace ${t.trace} was approved before the backup")
                                assertEquals(TxnState.APPROVED, found.state)
                                assertEquals(t.amountMinor, found.amountMinor)
                                assertEquals(t.authCode, found.authCode)
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    fun `restore refuses without force while a slip is unprinted, and keeps the replaced journal with force`() = runBlocking {
        softwareKeys().use { keys ->
            val journal = journalIn(dir)
            val backupFile = dir.resolve("backup.db").toString()
            SoftwarePrinter().use { printer ->
                PosTerminal.open(defaultConfig(), journal, keys, printer, null).use { terminal ->
                    terminal.preauth(newRequestId(), "10.00", PAN, EXPIRY)
                    terminal.waitIdle()
                    assertEquals(1L, terminal.backup(backupFile).transactions)
                }
            }
            // Paper out: the next pre-auth's slips stay held.
            val paperOut = KotlinVendorPrinter(PrinterVendor.PAX, code = 2)
            val trace = PosTerminal.open(defaultConfig(), journal, keys, paperOut, null).use { terminal ->
                val t = terminal.preauth(newRequestId(), "20.00", PAN, EXPIRY)
                terminal.awaitHeld(t.trace)
                terminal.shutdown()
                t.trace
            }
            val journalBytes = Files.readAllBytes(Path.of(journal))

            val refused = assertFailsWith<PosException.Refused> { restoreJournal(backupFile, journal, false) }
            assertBilingual(refused, "RESTORE_WOULD_LOSE_WORK")
            val slip = "%06d merchant".format(trace)
            assertTrue(refused.messageEn.contains(slip) && refused.messageEn.contains("unprinted slips"), refused.messageEn)
            assertTrue(refused.messageZh.contains("未打印的签购单"), refused.messageZh)
            assertTrue(Files.readAllBytes(Path.of(journal)).contentEquals(journalBytes), "refused: the journal is untouched")

            // A bad backup is refused before anything happens, force or not.
            val bad = dir.resolve("bad.db")
            Files.write(bad, ByteArray(8192) { 0x41 })
            assertBilingual(assertFailsWith<PosException.Refused> { restoreJournal(bad.toString(), journal, true) }, "BACKUP_FOREIGN")
            assertBilingual(
                assertFailsWith<PosException.InvalidInput> { restoreJournal(dir.resolve("missing.db").toString(), journal, true) },
                "BACKUP_NOT_FOUND",
            )

            // With force: the backup is the journal, the replaced one is kept beside it.
            val forced = restoreJournal(backupFile, journal, true)
            val kept = assertNotNull(forced.replacedPath)
            assertTrue(kept.contains("journal.db.before-restore-"), kept)
            assertTrue(forced.overriddenEn.contains(slip), forced.overriddenEn)
            assertEquals(2L, verifyJournalBackup(kept).transactions)
            SoftwarePrinter().use { printer ->
                PosTerminal.open(defaultConfig(), journal, keys, printer, null).use { terminal ->
                    assertEquals(1, terminal.list(10).size)
                    assertNull(terminal.show(trace))
                }
            }
        }
    }
}
