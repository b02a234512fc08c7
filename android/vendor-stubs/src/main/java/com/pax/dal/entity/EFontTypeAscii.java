package com.pax.dal.entity;

/** STUB of PAX NeptuneLite's ASCII font sizes (the ones poscore uses). Never packaged. */
public enum EFontTypeAscii {
    FONT_8_16,
    FONT_12_24,
    FONT_16_24,
    FONT_16_32,
}
