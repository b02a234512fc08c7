package poscore.jpos;

import org.jpos.iso.ISOMsg;

/** An ISOMsg that keeps the bytes it was unpacked from (the MAC is checked over them). */
public class CupMsg extends ISOMsg {
    private static final long serialVersionUID = 1L;
    private byte[] raw;

    public byte[] raw() {
        return raw;
    }

    void setRaw(byte[] raw) {
        this.raw = raw;
    }
}
