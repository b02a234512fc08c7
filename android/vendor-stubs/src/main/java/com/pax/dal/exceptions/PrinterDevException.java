package com.pax.dal.exceptions;

/**
 * STUB of PAX NeptuneLite's {@code PrinterDevException} (in the real SDK it extends
 * {@code AGeneralException}). Never packaged.
 */
public class PrinterDevException extends Exception {
    public PrinterDevException(String message) {
        super(message);
    }

    /** The SDK's error code (its own table, not the printer status codes). */
    public int getErrCode() {
        throw new UnsupportedOperationException("vendor stub");
    }

    /** The SDK's error text. */
    public String getErrMsg() {
        throw new UnsupportedOperationException("vendor stub");
    }
}
