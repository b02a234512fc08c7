package com.usdk.apiservice.aidl.printer;

import android.os.RemoteException;

/**
 * STUB of Landi/Ingenico APOS uSDK's {@code com.usdk.apiservice.aidl.printer.UPrinter} (AIDL):
 * only the methods poscore calls, with uSDK's signatures. Never packaged.
 */
public interface UPrinter extends android.os.IInterface {
    /** The printer's status: 0x00 OK, 0xF0 paper ended, 0xF3 overheat, … ({@code PrinterError}). */
    int getStatus() throws RemoteException;

    /** Adds a line of text to the job ({@link AlignMode}). */
    void addText(int align, String text) throws RemoteException;

    /** Adds {@code line} blank lines to the job. */
    void feedLine(int line) throws RemoteException;

    /** Prints the job; the listener gets onFinish() or onError(code). */
    void startPrint(OnPrintListener listener) throws RemoteException;

    /** Binder-side stub, as the AIDL compiler generates it (bodies left out). */
    abstract class Stub extends android.os.Binder implements UPrinter {
        public static UPrinter asInterface(android.os.IBinder obj) {
            throw new UnsupportedOperationException("vendor stub");
        }
    }
}
