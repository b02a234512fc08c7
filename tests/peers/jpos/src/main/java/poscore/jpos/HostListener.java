package poscore.jpos;

import java.io.FileOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

import org.jpos.iso.ISOException;
import org.jpos.iso.ISOMsg;
import org.jpos.iso.ISORequestListener;
import org.jpos.iso.ISOSource;

/**
 * The acquirer host's decisions, as a jPOS request listener. It approves everything, with these
 * rules (the ones of poscore's HostSim that the Rust test needs):
 *
 * <ul>
 * <li>0800 sign-on: 0810 00 with the working keys in F62, encrypted under the TMK: PIK (16) +
 *     check (4) + MAK (16) + check (4), a check value being the first 4 bytes of eight zero bytes
 *     encrypted under the clear key. Not MACed.</li>
 * <li>Every other request must carry F64 = the CUP ECB MAC under the MAK, over the bytes received
 *     (MTI..F63); if not, it is answered A0 and not processed. Replies to MACed requests are
 *     MACed.</li>
 * <li>0100 / 0200 (pre-auth, pre-auth void, completion, completion void): approved with F38 and
 *     F37, and held, keyed by batch (F60.2) and trace (F11). An amount whose cents are 98 is
 *     approved and held, but the reply is not sent (a lost reply).</li>
 * <li>0220 advice: 00. 0320 batch upload record or end: 00.</li>
 * <li>0400 reversal: 00 if it holds the original approval (F60.2 + F11), which it releases; 25
 *     otherwise.</li>
 * <li>0500 settlement: 00 with the request's F48 echoed, reconciliation code 1 (balanced).</li>
 * </ul>
 *
 * Replies echo F3, F4, F11, F25, F41, F42, F49, F60 and F61. Every event is appended as one JSON
 * line to the ledger, flushed and synced before the reply leaves.
 */
public class HostListener implements ISORequestListener {
    private static final byte[] PIN_KEY = filled(0x5A, 16);
    private static final int[] ECHOED = {3, 4, 11, 25, 41, 42, 49, 60, 61};

    private final byte[] mak;
    private final byte[] workingKeys;
    private final FileOutputStream ledger;
    private final Map<String, Long> approved = new HashMap<>();
    private int nextAuth = 1;
    private long nextRrn = 1;

    public HostListener(byte[] tmk, byte[] mak, FileOutputStream ledger) throws GeneralSecurityException {
        this.mak = mak.clone();
        this.ledger = ledger;
        byte[] f62 = new byte[40];
        System.arraycopy(CupCrypto.encrypt(tmk, PIN_KEY), 0, f62, 0, 16);
        System.arraycopy(CupCrypto.checkValue(PIN_KEY), 0, f62, 16, 4);
        System.arraycopy(CupCrypto.encrypt(tmk, mak), 0, f62, 20, 16);
        System.arraycopy(CupCrypto.checkValue(mak), 0, f62, 36, 4);
        this.workingKeys = f62;
    }

    private static byte[] filled(int value, int n) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return b;
    }

    @Override
    public boolean process(ISOSource source, ISOMsg m) {
        try {
            ISOMsg reply = answer(m);
            if (reply != null) {
                source.send(reply);
            }
        } catch (Exception e) {
            System.err.println("jpos-host: cannot answer " + describe(m) + ": " + e);
            e.printStackTrace();
        }
        return true;
    }

    private static String describe(ISOMsg m) {
        try {
            return m.getMTI() + " " + m.getString(11);
        } catch (ISOException e) {
            return "?";
        }
    }

    /** Decides, records and builds the reply; null when no reply is sent. */
    synchronized ISOMsg answer(ISOMsg request) throws ISOException, GeneralSecurityException, IOException {
        String mti = request.getMTI();
        ISOMsg reply = new ISOMsg();
        reply.setPackager(request.getPackager());
        if (request.getISOHeader() != null) {
            // The channel swaps the TPDU and clears the processing requirement on send.
            reply.setHeader((org.jpos.iso.ISOHeader) request.getISOHeader().clone());
        }
        reply.setMTI(mti.substring(0, 2) + (char) (mti.charAt(2) + 1) + mti.charAt(3));
        for (int f : ECHOED) {
            if (request.hasField(f)) {
                reply.set(f, request.getString(f));
            }
        }
        boolean signed = request.hasField(64);
        if (!mti.equals("0800") && !macOk(request)) {
            record("{\"event\":\"mac_rejected\",\"mti\":\"" + mti + "\",\"trace\":\"" + request.getString(11) + "\"}");
            reply.set(39, "A0");
            return sign(reply, signed);
        }
        String f60 = request.hasField(60) ? request.getString(60) : "";
        String batch = f60.length() >= 8 ? f60.substring(2, 8) : "";
        String trace = request.hasField(11) ? request.getString(11) : "";
        long amount = request.hasField(4) ? Long.parseLong(request.getString(4)) : 0;
        switch (mti) {
            case "0800": {
                reply.set(39, "00");
                reply.set(62, workingKeys);
                record("{\"event\":\"signon\",\"terminal\":\"" + request.getString(41) + "\",\"batch\":\"" + batch
                        + "\",\"mac_check\":\"" + CupCrypto.hex(CupCrypto.checkValue(mak)) + "\"}");
                return reply;
            }
            case "0100":
            case "0200": {
                if (batch.isEmpty() || trace.isEmpty()) {
                    reply.set(39, "30");
                    break;
                }
                String auth = String.format("%06d", nextAuth++ % 1_000_000);
                String rrn = String.format("%012d", nextRrn++);
                approved.put(batch + "/" + trace, amount);
                boolean lost = amount % 100 == 98;
                record(String.format(
                        "{\"event\":\"approved\",\"mti\":\"%s\",\"kind\":\"%s\",\"batch\":\"%s\",\"trace\":\"%s\",\"amount_minor\":%d,\"auth\":\"%s\",\"rrn\":\"%s\",\"entry_mode\":\"%s\",\"reply\":\"%s\"}",
                        mti, kind(mti, f60), batch, trace, amount, auth, rrn, request.hasField(22) ? request.getString(22) : "",
                        lost ? "withheld" : "sent"));
                if (lost) {
                    return null;
                }
                reply.set(39, "00");
                reply.set(38, auth);
                reply.set(37, rrn);
                break;
            }
            case "0220": {
                record(String.format("{\"event\":\"advice\",\"batch\":\"%s\",\"trace\":\"%s\",\"amount_minor\":%d}", batch, trace, amount));
                reply.set(39, "00");
                break;
            }
            case "0320": {
                String code = f60.length() >= 11 ? f60.substring(8, 11) : "";
                record(String.format("{\"event\":\"batch_upload\",\"batch\":\"%s\",\"trace\":\"%s\",\"network_code\":\"%s\"}", batch, trace, code));
                reply.set(39, "00");
                break;
            }
            case "0400": {
                Long held = approved.remove(batch + "/" + trace);
                if (held != null) {
                    record(String.format(
                            "{\"event\":\"reversed\",\"kind\":\"%s\",\"batch\":\"%s\",\"trace\":\"%s\",\"amount_minor\":%d,\"reason\":\"%s\"}",
                            kind("0400", f60), batch, trace, held, request.hasField(39) ? request.getString(39) : ""));
                    reply.set(39, "00");
                } else {
                    record(String.format("{\"event\":\"reversal_unmatched\",\"batch\":\"%s\",\"trace\":\"%s\"}", batch, trace));
                    reply.set(39, "25");
                }
                break;
            }
            case "0500": {
                String f48 = request.hasField(48) ? request.getString(48) : "";
                if (f48.length() < 31) {
                    reply.set(39, "30");
                    break;
                }
                String answered = f48.substring(0, 30) + "1" + f48.substring(31);
                record(String.format(
                        "{\"event\":\"settled\",\"batch\":\"%s\",\"amount_minor\":%d,\"count\":%d,\"reconciliation\":\"1\"}",
                        batch, Long.parseLong(f48.substring(0, 12)), Integer.parseInt(f48.substring(12, 15))));
                reply.set(39, "00");
                reply.set(48, answered);
                break;
            }
            default:
                reply.set(39, "12");
        }
        return sign(reply, signed);
    }

    /** The transaction kind (poscore's names) from the MTI and F60.1. */
    private static String kind(String mti, String f60) {
        String code = f60.length() >= 2 ? f60.substring(0, 2) : "";
        switch (code) {
            case "10": return "preauth";
            case "11": return "preauth_void";
            case "20": return "completion";
            case "21": return "completion_void";
            case "24": return "completion_advice";
            default: return "unknown-" + mti + "-" + code;
        }
    }

    private boolean macOk(ISOMsg request) throws GeneralSecurityException {
        if (!(request instanceof CupMsg) || !request.hasField(64)) {
            return false;
        }
        byte[] raw = ((CupMsg) request).raw();
        if (raw == null || raw.length < 18) {
            return false;
        }
        byte[] data = Arrays.copyOf(raw, raw.length - 8);
        byte[] received = Arrays.copyOfRange(raw, raw.length - 8, raw.length);
        return java.security.MessageDigest.isEqual(CupCrypto.cupMac(mak, data), received);
    }

    /** Packs the reply with a zero F64, computes the MAC over everything before it, sets it. */
    private ISOMsg sign(ISOMsg reply, boolean signed) throws ISOException, GeneralSecurityException {
        if (!signed) {
            return reply;
        }
        reply.set(64, new byte[8]);
        byte[] image = reply.pack();
        reply.set(64, CupCrypto.cupMac(mak, Arrays.copyOf(image, image.length - 8)));
        return reply;
    }

    private void record(String line) throws IOException {
        ledger.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        ledger.flush();
        ledger.getFD().sync();
    }
}
