package io.poscore.app

import android.app.Application
import io.poscore.sdk.android.PosCoreAndroid

/**
 * The cashier app's process: loads the native core the Android way (so Rust's threads attach
 * to the VM once, see [PosCoreAndroid.init]) and holds the one terminal ([core]) every screen
 * shares.
 */
class PosApp : Application() {
    /** The terminal, opened on first use and kept for the life of the process. */
    lateinit var core: CoreHolder
        private set

    override fun onCreate() {
        super.onCreate()
        PosCoreAndroid.init(this)
        core = CoreHolder(this)
    }
}
