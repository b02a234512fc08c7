package com.sunmi.peripheral.printer;

import android.os.RemoteException;

/**
 * STUB of Sunmi printerlibrary's {@code SunmiPrinterService} (AIDL {@code IWoyouService}):
 * only the methods poscore calls, with the library's signatures. Never packaged.
 */
public interface SunmiPrinterService extends android.os.IInterface {
    void printerInit(InnerResultCallback callback) throws RemoteException;

    void setAlignment(int alignment, InnerResultCallback callback) throws RemoteException;

    void printText(String text, InnerResultCallback callback) throws RemoteException;

    void lineWrap(int n, InnerResultCallback callback) throws RemoteException;

    /** Raw ESC/POS bytes, printed as they are (buffered in transaction mode). */
    void sendRAWData(byte[] data, InnerResultCallback callback) throws RemoteException;

    /** Transaction mode: later calls are buffered; {@code clean} drops what was buffered. */
    void enterPrinterBuffer(boolean clean) throws RemoteException;

    /** Leaves transaction mode, printing the buffer if {@code commit}; the result comes to onPrintResult. */
    void exitPrinterBufferWithCallback(boolean commit, InnerResultCallback callback) throws RemoteException;

    /** The printer's state: 1 normal, 2 preparing, 3 link error, 4 out of paper, 5 overheated, … */
    int updatePrinterState() throws RemoteException;
}
