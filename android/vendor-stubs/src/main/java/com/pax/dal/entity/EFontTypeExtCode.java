package com.pax.dal.entity;

/** STUB of PAX NeptuneLite's extended-code (CJK) font sizes (the ones poscore uses). Never packaged. */
public enum EFontTypeExtCode {
    FONT_16_16,
    FONT_24_24,
    FONT_32_32,
}
