package com.usdk.apiservice.aidl.printer;

import android.os.RemoteException;

/** STUB of uSDK's print listener (AIDL). Never packaged. */
public interface OnPrintListener extends android.os.IInterface {
    /** The job printed. */
    void onFinish() throws RemoteException;

    /** The job failed with a {@code PrinterError} code (same table as getStatus()). */
    void onError(int error) throws RemoteException;

    /** Binder-side stub, as the AIDL compiler generates it (bodies left out). */
    abstract class Stub extends android.os.Binder implements OnPrintListener {
        @Override
        public android.os.IBinder asBinder() {
            return this;
        }
    }
}
