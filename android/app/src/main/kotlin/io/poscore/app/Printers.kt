package io.poscore.app

import android.content.Context
import android.os.Build
import android.util.Log
import io.poscore.ffi.DeviceStatus
import io.poscore.ffi.PosException
import io.poscore.ffi.PrinterDevice
import io.poscore.ffi.SoftwarePrinter
import io.poscore.ffi.Slip
import io.poscore.sdk.vendor.PaxPrinterDevice
import io.poscore.sdk.vendor.SunmiPrinterDevice
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.withContext

/**
 * Picks the printer for this device.
 *
 * - Sunmi and PAX terminals get their vendor adapter (the vendor SDK must be packaged in the
 *   APK: android/vendor-libs/README.md).
 * - Landi terminals need the OEM's uSDK device-service binding before
 *   `io.poscore.sdk.vendor.LandiPrinterDevice` can be made; until the integrator wires it
 *   here, they get an [UnavailablePrinter] that says so.
 * - On a vendor terminal whose printer cannot be reached (service missing, SDK not packaged),
 *   an [UnavailablePrinter]: every slip stays queued with a visible reason, never counted
 *   as printed.
 * - Anywhere else (emulator, phone), the core's in-memory [SoftwarePrinter], with a warning
 *   on the home screen: nothing reaches paper.
 */
object Printers {
    private const val TAG = "poscore-app"
    private const val CONNECT_WAIT_MS = 3_000L

    /** A chosen printer. */
    class Chosen(
        /** The device. */
        val device: PrinterDevice,
        /** What it is, for the operator. */
        val name: String,
        /** Whether it is the in-memory software printer. */
        val software: Boolean,
    )

    /** Chooses and connects the printer (binding vendor services off the main thread). */
    suspend fun choose(context: Context): Chosen {
        val maker = Build.MANUFACTURER.orEmpty().uppercase()
        return when {
            maker.contains("SUNMI") -> vendor(context.getString(R.string.printer_sunmi)) {
                requireSdk("com.sunmi.peripheral.printer.InnerPrinterManager", "商米", "Sunmi")
                SunmiPrinterDevice.bind(context).also { it.awaitConnected(CONNECT_WAIT_MS) }
            }
            maker.contains("PAX") -> vendor(context.getString(R.string.printer_pax)) {
                requireSdk("com.pax.neptunelite.api.NeptuneLiteUser", "百富", "PAX")
                withContext(Dispatchers.IO) { PaxPrinterDevice.fromContext(context) }
            }
            maker.contains("LANDI") -> vendor(context.getString(R.string.printer_landi)) {
                throw PosException.Device(
                    "PRINTER_NOT_INTEGRATED",
                    "联迪打印机需接入 uSDK 设备服务（LandiPrinterDevice）：签购单保留在队列中",
                    "the Landi printer needs the uSDK device-service binding (LandiPrinterDevice); slips stay queued",
                )
            }
            else -> Chosen(SoftwarePrinter(), context.getString(R.string.printer_software), software = true)
        }
    }

    private suspend fun vendor(name: String, connect: suspend () -> PrinterDevice): Chosen = try {
        Chosen(connect(), name, software = false)
    } catch (e: PosException) {
        Log.w(TAG, "vendor printer unavailable: ${e.message}")
        Chosen(UnavailablePrinter(e), "$name (${Texts.codeOf(e)})", software = false)
    }

    /** Fails with a Device error if the vendor SDK class [name] is not packaged in the APK. */
    private fun requireSdk(name: String, vendorZh: String, vendorEn: String) {
        try {
            Class.forName(name, false, Printers::class.java.classLoader)
        } catch (_: ClassNotFoundException) {
            throw PosException.Device(
                "PRINTER_SDK_MISSING",
                "应用未打包${vendorZh}打印 SDK：签购单保留在队列中，请联系技术支持",
                "the $vendorEn printer SDK is not packaged in this app; slips stay queued, call support",
            )
        }
    }
}

/**
 * A printer that could not be reached: every call fails with [reason], so the core keeps the
 * slips queued and shows why, instead of counting them printed.
 */
class UnavailablePrinter(private val reason: PosException) : PrinterDevice {
    override fun print(slip: Slip): DeviceStatus = throw reason
    override fun status(): DeviceStatus = throw reason
}
