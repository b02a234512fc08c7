package com.pax.dal;

/** STUB of PAX NeptuneLite's {@code IDAL} (the device access layer). Never packaged. */
public interface IDAL {
    IPrinter getPrinter();
}
