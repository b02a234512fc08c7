//! Keys kept on the Android side: the PAN-hash key and the MAC key live in the terminal's
//! secure module, behind [`KeyProvider`]. [`SoftwareKeyProvider`] keeps them in memory for
//! tests and the demo.

use std::sync::Arc;

use des::Des;
use des::cipher::{BlockEncrypt, KeyInit};

use crate::error::PosError;

/// The terminal's secure module, implemented in Kotlin (vendor key-store SDKs).
#[uniffi::export(rust, foreign)]
pub trait KeyProvider: Send + Sync {
    /// The secret key of the PAN hash (at least 16 bytes). Never stored in the journal.
    fn pan_hash_key(&self) -> Result<Vec<u8>, PosError>;
    /// The 8-byte MAC (field 64) of a message, computed with the MAC key (MAK) inside the
    /// secure module.
    fn mac(&self, data: Vec<u8>) -> Result<Vec<u8>, PosError>;
}

/// Keys held in memory: for tests, the demo, and terminals without a secure module.
#[derive(uniffi::Object)]
pub struct SoftwareKeyProvider {
    pan_key: Vec<u8>,
    mak: [u8; 8],
}

impl std::fmt::Debug for SoftwareKeyProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SoftwareKeyProvider(..)")
    }
}

#[uniffi::export]
impl SoftwareKeyProvider {
    /// Keys from bytes: a PAN-hash key of at least 16 bytes and a single-length (8-byte) MAK.
    #[uniffi::constructor]
    pub fn new(pan_hash_key: Vec<u8>, mak: Vec<u8>) -> Result<Arc<SoftwareKeyProvider>, PosError> {
        let bad = |what: &str, zh: &str| PosError::InvalidInput {
            code: "KEY_LENGTH".into(),
            message_zh: zh.into(),
            message_en: what.into(),
        };
        if pan_hash_key.len() < 16 {
            return Err(bad(
                "the PAN-hash key needs at least 16 bytes",
                "卡号摘要密钥至少需要 16 字节",
            ));
        }
        let mak: [u8; 8] = mak
            .try_into()
            .map_err(|_| bad("the MAC key must be 8 bytes", "MAC 密钥必须为 8 字节"))?;
        Ok(Arc::new(SoftwareKeyProvider {
            pan_key: pan_hash_key,
            mak,
        }))
    }
}

#[uniffi::export]
impl KeyProvider for SoftwareKeyProvider {
    fn pan_hash_key(&self) -> Result<Vec<u8>, PosError> {
        Ok(self.pan_key.clone())
    }

    fn mac(&self, data: Vec<u8>) -> Result<Vec<u8>, PosError> {
        Ok(cup_ecb_mac(&self.mak, &data).to_vec())
    }
}

fn hex_upper(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .flat_map(|b| format!("{b:02X}").into_bytes())
        .collect()
}

fn des_encrypt(key: &[u8; 8], block: &mut [u8; 8]) {
    let cipher = Des::new_from_slice(key).expect("an 8-byte DES key");
    cipher.encrypt_block(block.into());
}

/// The UnionPay ECB MAC (reference/payments.md "Framing and MAC"): XOR the zero-padded
/// 8-byte blocks, hex-expand, DES the first half, XOR with the second, DES again,
/// hex-expand, keep the first 8 characters.
pub fn cup_ecb_mac(mak: &[u8; 8], data: &[u8]) -> [u8; 8] {
    let mut xor = [0u8; 8];
    for chunk in data.chunks(8) {
        for (acc, byte) in xor.iter_mut().zip(chunk) {
            *acc ^= byte;
        }
    }
    let expanded = hex_upper(&xor);
    let mut block: [u8; 8] = expanded[..8].try_into().expect("16 hex characters");
    des_encrypt(mak, &mut block);
    for (b, e) in block.iter_mut().zip(&expanded[8..]) {
        *b ^= e;
    }
    des_encrypt(mak, &mut block);
    hex_upper(&block)[..8]
        .try_into()
        .expect("16 hex characters")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn des_matches_the_classic_test_vector() {
        // FIPS 81 / the textbook vector: key 133457799BBCDFF1, plain 0123456789ABCDEF.
        let key = [0x13, 0x34, 0x57, 0x79, 0x9B, 0xBC, 0xDF, 0xF1];
        let mut block = [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF];
        des_encrypt(&key, &mut block);
        assert_eq!(block, [0x85, 0xE8, 0x13, 0x54, 0x0F, 0x0A, 0xB4, 0x05]);
    }

    #[test]
    fn cup_mac_follows_the_steps() {
        let mak = [0x11; 8];
        let data = b"0200 message bytes over MTI..F63";
        let mac = cup_ecb_mac(&mak, data);
        // Recompute the steps by hand.
        let mut xor = [0u8; 8];
        for (i, b) in data.iter().enumerate() {
            xor[i % 8] ^= b;
        }
        let hex = hex_upper(&xor);
        let mut first: [u8; 8] = hex[..8].try_into().unwrap();
        des_encrypt(&mak, &mut first);
        let mut second: [u8; 8] = std::array::from_fn(|i| first[i] ^ hex[8 + i]);
        des_encrypt(&mak, &mut second);
        assert_eq!(mac.to_vec(), hex_upper(&second)[..8].to_vec());
        assert!(mac.iter().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(cup_ecb_mac(&mak, b"0200 message bytes over MTI..F64"), mac);
        // Zero padding: trailing zero bytes do not change the MAC.
        let mut padded = data.to_vec();
        padded.extend([0u8; 5]);
        assert_eq!(cup_ecb_mac(&mak, &padded), mac);
    }
}
