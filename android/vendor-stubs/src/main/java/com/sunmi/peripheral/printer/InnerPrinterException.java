package com.sunmi.peripheral.printer;

/** STUB of Sunmi printerlibrary's {@code InnerPrinterException}. Never packaged. */
public class InnerPrinterException extends Exception {
    public InnerPrinterException(String message) {
        super(message);
    }
}
