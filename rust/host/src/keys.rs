//! MAC keys: the [`MacKey`] trait the link signs and checks messages through, a software
//! implementation holding a key in memory, and the decryption of a sign-on's working key under
//! the terminal master key (TMK).

use des::cipher::{BlockDecrypt, BlockEncrypt, KeyInit};
use des::{Des, TdesEde2};
use poscore_iso8583::{MacAlgorithm, compute_mac};

/// Computes F64 over MTI..F63. A terminal's secure module implements it without the key ever
/// leaving the module; [`SoftwareMacKey`] holds the key in memory.
pub trait MacKey: Send + Sync {
    /// The 8 MAC bytes of `data`.
    fn mac(&self, data: &[u8]) -> [u8; 8];
}

/// Key problems.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// A key is neither 8 nor 16 bytes.
    #[error(
        "a {0}-byte key: DES keys are 8 bytes, double-length 3DES keys 16; check the configuration"
    )]
    Length(usize),
    /// A decrypted working key does not match its check value: the master key differs from
    /// the host's. Sign on again, or load the right master key.
    #[error(
        "the working key's check value does not match: the terminal master key is not the host's"
    )]
    CheckValue,
}

/// A MAC key held in memory (from configuration, or decrypted from a sign-on).
#[derive(Clone)]
pub struct SoftwareMacKey {
    algorithm: MacAlgorithm,
    key: Vec<u8>,
}

impl std::fmt::Debug for SoftwareMacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwareMacKey")
            .field("algorithm", &self.algorithm)
            .field("key_bytes", &self.key.len())
            .finish()
    }
}

impl SoftwareMacKey {
    /// A key for `algorithm`; 8 or 16 bytes.
    pub fn new(algorithm: MacAlgorithm, key: &[u8]) -> Result<SoftwareMacKey, KeyError> {
        match key.len() {
            8 | 16 => Ok(SoftwareMacKey {
                algorithm,
                key: key.to_vec(),
            }),
            n => Err(KeyError::Length(n)),
        }
    }

    /// A CUP ECB MAC key.
    pub fn cup(key: &[u8]) -> Result<SoftwareMacKey, KeyError> {
        SoftwareMacKey::new(MacAlgorithm::CupEcb, key)
    }

    /// The key's check value (first 4 bytes of eight zero bytes encrypted under it).
    pub fn check_value(&self) -> [u8; 4] {
        check_value(&self.key).unwrap_or_default()
    }
}

impl MacKey for SoftwareMacKey {
    fn mac(&self, data: &[u8]) -> [u8; 8] {
        // The length was checked in `new`, the only way to build one.
        compute_mac(self.algorithm, &self.key, data).unwrap_or_default()
    }
}

enum Cipher {
    Single(Des),
    Double(TdesEde2),
}

impl Cipher {
    fn new(key: &[u8]) -> Result<Cipher, KeyError> {
        match key.len() {
            8 => Des::new_from_slice(key)
                .map(Cipher::Single)
                .map_err(|_| KeyError::Length(8)),
            16 => TdesEde2::new_from_slice(key)
                .map(Cipher::Double)
                .map_err(|_| KeyError::Length(16)),
            n => Err(KeyError::Length(n)),
        }
    }

    fn apply(&self, data: &[u8], encrypt: bool) -> Result<Vec<u8>, KeyError> {
        if data.len() % 8 != 0 {
            return Err(KeyError::Length(data.len()));
        }
        let mut out = data.to_vec();
        for chunk in out.chunks_exact_mut(8) {
            let block: &mut [u8; 8] = chunk.try_into().map_err(|_| KeyError::Length(8))?;
            match (self, encrypt) {
                (Cipher::Single(c), true) => c.encrypt_block(block.into()),
                (Cipher::Single(c), false) => c.decrypt_block(block.into()),
                (Cipher::Double(c), true) => c.encrypt_block(block.into()),
                (Cipher::Double(c), false) => c.decrypt_block(block.into()),
            }
        }
        Ok(out)
    }
}

/// The check value of a clear key: the first 4 bytes of eight zero bytes encrypted under it.
pub fn check_value(key: &[u8]) -> Result<[u8; 4], KeyError> {
    let block = Cipher::new(key)?.apply(&[0; 8], true)?;
    let mut out = [0; 4];
    out.copy_from_slice(&block[..4]);
    Ok(out)
}

/// Encrypts a working key under the master key (ECB), as the host does for F62.
pub fn encrypt_key(master: &[u8], key: &[u8]) -> Result<Vec<u8>, KeyError> {
    Cipher::new(master)?.apply(key, true)
}

/// Decrypts a working key from F62 under the master key and checks it against its check value.
pub fn decrypt_key(master: &[u8], encrypted: &[u8], check: [u8; 4]) -> Result<Vec<u8>, KeyError> {
    let clear = Cipher::new(master)?.apply(encrypted, false)?;
    if check_value(&clear)? != check {
        return Err(KeyError::CheckValue);
    }
    Ok(clear)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_working_key_round_trips_under_the_master_key() {
        let master = [0x11u8; 16];
        let mak = *b"\x01\x23\x45\x67\x89\xab\xcd\xef\xfe\xdc\xba\x98\x76\x54\x32\x10";
        let encrypted = encrypt_key(&master, &mak).unwrap();
        assert_ne!(encrypted, mak);
        let check = check_value(&mak).unwrap();
        assert_eq!(decrypt_key(&master, &encrypted, check).unwrap(), mak);
        assert_eq!(
            decrypt_key(&[0x22; 16], &encrypted, check),
            Err(KeyError::CheckValue)
        );
    }

    #[test]
    fn key_lengths_are_checked() {
        assert_eq!(
            SoftwareMacKey::cup(&[1; 7]).unwrap_err(),
            KeyError::Length(7)
        );
        let key = SoftwareMacKey::cup(&[1; 8]).unwrap();
        assert_eq!(
            key.mac(b"abc"),
            poscore_iso8583::cup_ecb_mac(&[1; 8], b"abc").unwrap()
        );
    }
}
