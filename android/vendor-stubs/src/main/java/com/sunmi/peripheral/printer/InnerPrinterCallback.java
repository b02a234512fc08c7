package com.sunmi.peripheral.printer;

import android.content.ComponentName;
import android.content.ServiceConnection;
import android.os.IBinder;

/** STUB of Sunmi printerlibrary's {@code InnerPrinterCallback}. Never packaged. */
public abstract class InnerPrinterCallback implements ServiceConnection {
    /** The printer service is bound. */
    protected abstract void onConnected(SunmiPrinterService service);

    /** The printer service went away. */
    protected abstract void onDisconnected();

    @Override
    public void onServiceConnected(ComponentName name, IBinder service) {
        throw new UnsupportedOperationException("vendor stub");
    }

    @Override
    public void onServiceDisconnected(ComponentName name) {
        onDisconnected();
    }
}
