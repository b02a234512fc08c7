package com.pax.dal;

import com.pax.dal.entity.EFontTypeAscii;
import com.pax.dal.entity.EFontTypeExtCode;
import com.pax.dal.exceptions.PrinterDevException;

/**
 * STUB of PAX NeptuneLite's {@code com.pax.dal.IPrinter}: only the methods poscore calls, with
 * NeptuneLite's signatures. Never packaged.
 */
public interface IPrinter {
    /** Clears the print buffer and resets the settings. */
    void init() throws PrinterDevException;

    /** Chooses the ASCII and the extended (CJK) fonts. */
    void fontSet(EFontTypeAscii asciiFontType, EFontTypeExtCode cFontType) throws PrinterDevException;

    /** Buffers a string, encoded with {@code charset} (null: the terminal's default). */
    void printStr(String str, String charset) throws PrinterDevException;

    /** Feeds {@code b} pixel rows. */
    void step(int b) throws PrinterDevException;

    /** Prints the buffer and returns the printer's status (0 = success). Synchronous. */
    int start() throws PrinterDevException;

    /** The printer's status now (same codes as {@link #start()}). */
    int getStatus() throws PrinterDevException;
}
