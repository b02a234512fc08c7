package poscore.jpos;

import java.security.GeneralSecurityException;
import java.util.Arrays;

import javax.crypto.Cipher;
import javax.crypto.spec.SecretKeySpec;

/**
 * DES / 2-key 3DES (EDE) in ECB, the key check value, and the CUP ECB MAC
 * (payments.md "Framing and MAC"):
 * zero-pad to 8, XOR all blocks, hex-expand to 16 ASCII characters, encrypt the first 8 with the
 * MAK, XOR with the last 8, encrypt again, hex-expand and keep the first 8 ASCII characters.
 * An 8-byte key is single DES, a 16-byte key double-length 3DES (K1 K2 K1).
 */
public final class CupCrypto {
    private CupCrypto() {}

    private static Cipher cipher(byte[] key, int mode) throws GeneralSecurityException {
        Cipher c;
        if (key.length == 8) {
            c = Cipher.getInstance("DES/ECB/NoPadding");
            c.init(mode, new SecretKeySpec(key, "DES"));
        } else if (key.length == 16) {
            byte[] k = new byte[24];
            System.arraycopy(key, 0, k, 0, 16);
            System.arraycopy(key, 0, k, 16, 8);
            c = Cipher.getInstance("DESede/ECB/NoPadding");
            c.init(mode, new SecretKeySpec(k, "DESede"));
        } else {
            throw new IllegalArgumentException("a " + key.length + "-byte key: DES keys are 8 bytes, 3DES 16");
        }
        return c;
    }

    public static byte[] encrypt(byte[] key, byte[] data) throws GeneralSecurityException {
        return cipher(key, Cipher.ENCRYPT_MODE).doFinal(data);
    }

    public static byte[] decrypt(byte[] key, byte[] data) throws GeneralSecurityException {
        return cipher(key, Cipher.DECRYPT_MODE).doFinal(data);
    }

    /** First 4 bytes of eight zero bytes encrypted under the clear key. */
    public static byte[] checkValue(byte[] key) throws GeneralSecurityException {
        return Arrays.copyOf(encrypt(key, new byte[8]), 4);
    }

    private static byte[] hexUpper(byte[] b) {
        final byte[] digits = "0123456789ABCDEF".getBytes();
        byte[] out = new byte[b.length * 2];
        for (int i = 0; i < b.length; i++) {
            out[2 * i] = digits[(b[i] >> 4) & 0xF];
            out[2 * i + 1] = digits[b[i] & 0xF];
        }
        return out;
    }

    /** The CUP ECB MAC of {@code data} (MTI..F63): the 8 bytes of F64. */
    public static byte[] cupMac(byte[] mak, byte[] data) throws GeneralSecurityException {
        byte[] acc = new byte[8];
        for (int i = 0; i < data.length; i++) {
            acc[i % 8] ^= data[i];
        }
        byte[] expanded = hexUpper(acc);
        Cipher c = cipher(mak, Cipher.ENCRYPT_MODE);
        byte[] block = c.doFinal(Arrays.copyOf(expanded, 8));
        for (int i = 0; i < 8; i++) {
            block[i] ^= expanded[8 + i];
        }
        block = c.doFinal(block);
        return Arrays.copyOf(hexUpper(block), 8);
    }

    public static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) {
            s.append(String.format("%02X", x));
        }
        return s.toString();
    }

    public static byte[] unhex(String s) {
        byte[] out = new byte[s.length() / 2];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) Integer.parseInt(s.substring(2 * i, 2 * i + 2), 16);
        }
        return out;
    }
}
