package com.sunmi.peripheral.printer;

import android.os.RemoteException;

/**
 * STUB of Sunmi printerlibrary's result callback (AIDL {@code woyou.aidlservice.jiuiv5.ICallback}).
 * Only the signatures poscore calls; never packaged (see ../../../../../../README.md).
 */
public interface ICallback extends android.os.IInterface {
    /** The call ran (not: the printer printed). */
    void onRunResult(boolean isSuccess) throws RemoteException;

    /** A string result (e.g. the printed length). */
    void onReturnString(String result) throws RemoteException;

    /** The call failed: code and description. */
    void onRaiseException(int code, String msg) throws RemoteException;

    /** Transaction-mode result: 0 = printed, 1 = failed. */
    void onPrintResult(int code, String msg) throws RemoteException;

    /** Binder-side stub, as the AIDL compiler generates it (bodies left out). */
    abstract class Stub extends android.os.Binder implements ICallback {
        @Override
        public android.os.IBinder asBinder() {
            return this;
        }
    }
}
