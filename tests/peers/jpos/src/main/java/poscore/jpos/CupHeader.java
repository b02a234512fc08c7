package poscore.jpos;

import org.jpos.iso.header.BaseHeader;

/**
 * The 11 bytes in front of a UnionPay POS message: the TPDU ({@code 60}, destination (2),
 * source (2)) and the 6-byte application header (application class, software version, one
 * byte terminal status (high nibble) / processing requirement (low nibble), 3 bytes software
 * sub-version).
 *
 * <p>{@link #swapDirection()} turns a request's header into its reply's: the TPDU addresses
 * swapped, the header echoed with the processing requirement 0 (nothing for the terminal to
 * do). jPOS's NACChannel only swaps a bare 5-byte TPDU, hence this class.
 */
public class CupHeader extends BaseHeader {
    private static final long serialVersionUID = 1L;

    /** TPDU (5) + CUP application header (6). */
    public static final int LENGTH = 11;

    public CupHeader(byte[] image) {
        super(image);
    }

    @Override
    public void swapDirection() {
        if (header == null || header.length != LENGTH) {
            return;
        }
        byte d0 = header[1], d1 = header[2];
        header[1] = header[3];
        header[2] = header[4];
        header[3] = d0;
        header[4] = d1;
        // Byte 3 of the application header: keep the terminal status, processing requirement 0.
        header[7] = (byte) (header[7] & 0xF0);
    }

    @Override
    public String getDestination() {
        return header == null ? null : String.format("%02X%02X", header[1], header[2]);
    }

    @Override
    public String getSource() {
        return header == null ? null : String.format("%02X%02X", header[3], header[4]);
    }
}
