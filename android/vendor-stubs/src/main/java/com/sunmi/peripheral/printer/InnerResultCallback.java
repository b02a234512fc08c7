package com.sunmi.peripheral.printer;

/** STUB of Sunmi printerlibrary's {@code InnerResultCallback}. Never packaged. */
public abstract class InnerResultCallback extends ICallback.Stub {
}
