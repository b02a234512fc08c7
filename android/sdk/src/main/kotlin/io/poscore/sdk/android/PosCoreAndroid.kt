package io.poscore.sdk.android

import android.content.Context
import io.poscore.ffi.KeyProvider
import io.poscore.ffi.PrinterDevice
import io.poscore.ffi.SoftwareKeyProvider
import io.poscore.ffi.TerminalConfig
import io.poscore.ffi.defaultConfig
import io.poscore.sdk.PosCore
import java.io.File
import java.io.IOException
import java.security.SecureRandom
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

/**
 * Starting poscore on Android: loading the native library the Android way, and where the
 * journal lives.
 *
 * Call [init] once, early (in `Application.onCreate`), before anything touches
 * `io.poscore.ffi` or [PosCore]:
 *
 * ```kotlin
 * class PosApp : Application() {
 *     override fun onCreate() {
 *         super.onCreate()
 *         PosCoreAndroid.init(this)
 *     }
 * }
 * // later, from a coroutine:
 * val core = PosCoreAndroid.open(context, keys, printer)
 * ```
 *
 * **Why [init] matters.** The uniffi bindings load `libposcore_ffi.so` through JNA, and JNA's
 * loading does not run the library's `JNI_OnLoad`. Loading it first with
 * [System.loadLibrary] does: Rust keeps the `JavaVM` and attaches each of its runtime threads
 * to the VM once, for good, instead of JNA attaching and detaching a thread on every printer,
 * key or event callback (uniffi#1778; `rust/ffi/src/runtime.rs`). The runtime starts with the
 * first terminal, so [init] must come before the first [open].
 */
object PosCoreAndroid {
    /** The native library's name: `libposcore_ffi.so` in the APK's `lib/<abi>/`. */
    const val LIBRARY: String = "poscore_ffi"

    /** The journal's default file name, under `filesDir/poscore/`. */
    const val DEFAULT_JOURNAL: String = "poscore.db"

    private const val DIRECTORY = "poscore"
    private const val DEMO_KEY_FILE = "demo-keys.bin"
    private const val PAN_KEY_BYTES = 32
    private const val MAK_BYTES = 8

    @Volatile
    private var loaded = false

    /**
     * Loads the native library with [System.loadLibrary] (so `JNI_OnLoad` runs) and returns
     * the default journal file. Idempotent and thread-safe; cheap after the first call.
     *
     * @throws UnsatisfiedLinkError if the APK has no `libposcore_ffi.so` for this device's ABI.
     */
    @JvmStatic
    fun init(context: Context): File {
        loadLibrary()
        return journalFile(context)
    }

    /** Loads `libposcore_ffi.so` once ([init] without the journal path). */
    @JvmStatic
    fun loadLibrary() {
        if (loaded) return
        synchronized(this) {
            if (!loaded) {
                System.loadLibrary(LIBRARY)
                loaded = true
            }
        }
    }

    /** Whether [loadLibrary] has run in this process. */
    @JvmStatic
    val isLoaded: Boolean
        get() = loaded

    /**
     * The journal file [name] in the app's private storage (`filesDir/poscore/`), with its
     * directory created. The journal is the terminal's whole state: keep it out of backups
     * (`android:allowBackup="false"`, or exclude it in the backup rules) and never delete it
     * while transactions are unsettled.
     */
    @JvmStatic
    @JvmOverloads
    fun journalFile(context: Context, name: String = DEFAULT_JOURNAL): File {
        require(name.isNotEmpty() && !name.contains('/')) { "journal name must be a plain file name (got \"$name\")" }
        val dir = File(context.applicationContext.filesDir, DIRECTORY)
        if (!dir.isDirectory && !dir.mkdirs()) throw IOException("cannot create ${dir.path}")
        return File(dir, name)
    }

    /**
     * Loads the library ([init]) and opens the terminal on the journal [journalName] in the
     * app's private storage, off the main thread ([PosCore.openAsync]).
     *
     * @param config the terminal's settings; `null` (the default) is `defaultConfig()`, read
     *   after the library is loaded.
     * @throws io.poscore.ffi.PosException as [PosCore.open].
     */
    suspend fun open(
        context: Context,
        keys: KeyProvider,
        printer: PrinterDevice,
        config: TerminalConfig? = null,
        journalName: String = DEFAULT_JOURNAL,
    ): PosCore {
        val journal = withContext(Dispatchers.IO) {
            loadLibrary()
            journalFile(context, journalName)
        }
        return PosCore.openAsync(journal.path, keys, printer, config ?: defaultConfig())
    }

    /**
     * A [KeyProvider] with keys kept in a private file (`filesDir/poscore/demo-keys.bin`),
     * created with [SecureRandom] on first use and the same on every later start (the PAN
     * hashes in the journal stay comparable).
     *
     * **For the demo app, tests and emulators only.** A production terminal implements
     * [KeyProvider] over its secure module (the vendor's PED/key-store SDK), so that neither
     * key is ever in app storage. Blocking file I/O: call it off the main thread.
     */
    @JvmStatic
    fun demoKeys(context: Context): SoftwareKeyProvider {
        loadLibrary()
        val file = File(journalFile(context).parentFile, DEMO_KEY_FILE)
        val bytes = if (file.length() == (PAN_KEY_BYTES + MAK_BYTES).toLong()) {
            file.readBytes()
        } else {
            ByteArray(PAN_KEY_BYTES + MAK_BYTES).also {
                SecureRandom().nextBytes(it)
                val tmp = File(file.parentFile, "$DEMO_KEY_FILE.tmp")
                tmp.writeBytes(it)
                if (!tmp.renameTo(file)) throw IOException("cannot write ${file.path}")
            }
        }
        return SoftwareKeyProvider(bytes.copyOfRange(0, PAN_KEY_BYTES), bytes.copyOfRange(PAN_KEY_BYTES, PAN_KEY_BYTES + MAK_BYTES))
    }
}
