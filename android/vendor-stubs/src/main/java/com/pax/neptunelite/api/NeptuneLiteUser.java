package com.pax.neptunelite.api;

import android.content.Context;
import com.pax.dal.IDAL;

/** STUB of PAX NeptuneLite's entry point. Never packaged. */
public class NeptuneLiteUser {
    private NeptuneLiteUser() {
    }

    public static NeptuneLiteUser getInstance() {
        throw new UnsupportedOperationException("vendor stub");
    }

    /** The device access layer (binds PAX's service). */
    public IDAL getDal(Context context) throws Exception {
        throw new UnsupportedOperationException("vendor stub");
    }
}
