package com.sunmi.peripheral.printer;

import android.content.Context;

/** STUB of Sunmi printerlibrary's {@code InnerPrinterManager}. Never packaged. */
public class InnerPrinterManager {
    private InnerPrinterManager() {
    }

    public static InnerPrinterManager getInstance() {
        throw new UnsupportedOperationException("vendor stub");
    }

    /** Binds the printer service ({@code woyou.aidlservice.jiuiv5}); the callback gets it. */
    public boolean bindService(Context context, InnerPrinterCallback callback) throws InnerPrinterException {
        throw new UnsupportedOperationException("vendor stub");
    }

    /** Unbinds it. */
    public void unBindService(Context context, InnerPrinterCallback callback) throws InnerPrinterException {
        throw new UnsupportedOperationException("vendor stub");
    }
}
