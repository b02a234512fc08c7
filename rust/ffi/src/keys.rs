//! Keys kept on the Android side: the PAN-hash key, the terminal master key (TMK) and the MAC
//! key (MAK) live in the terminal's secure module, behind [`KeyProvider`].
//! [`SoftwareKeyProvider`] keeps them in memory for tests and the demo.
//!
//! The MAC itself is `poscore-iso8583`'s (through `poscore_host::SoftwareMacKey`), the working
//! keys are decrypted and checked with `poscore_host::keys`: one implementation of each.

use std::sync::{Arc, RwLock};

use poscore_host::keys::{check_value, decrypt_key};
use poscore_host::{KeyError, MacKey, SoftwareMacKey};

use crate::error::PosError;
use crate::host::WorkingKeys;

/// The terminal's secure module, implemented in Kotlin (vendor key-store SDKs).
#[uniffi::export(rust, foreign)]
pub trait KeyProvider: Send + Sync {
    /// The secret key of the PAN hash (at least 16 bytes). Never stored in the journal.
    fn pan_hash_key(&self) -> Result<Vec<u8>, PosError>;
    /// The 8-byte MAC (field 64) of a message, computed with the MAC key (MAK) inside the
    /// secure module, by the algorithm of the last installed working keys (the CUP ECB MAC
    /// until then).
    fn mac(&self, data: Vec<u8>) -> Result<Vec<u8>, PosError>;
    /// After an approved sign-on (签到) with a real host: the working keys from field 62,
    /// encrypted under the terminal master key (TMK). The module decrypts them under its TMK,
    /// checks each against its check value, and uses the MAC key (with `keys.macAlgorithm`)
    /// for every later `mac` call. Throw `PosException` (e.g. `KEY_CHECK_VALUE`) to refuse
    /// them: the sign-on then counts as failed and the terminal sends no financial message
    /// until a sign-on installs good keys. Called on a core thread, never the main thread.
    fn install_working_keys(&self, keys: WorkingKeys) -> Result<(), PosError>;
}

/// Keys held in memory: for tests, the demo, and terminals without a secure module.
#[derive(uniffi::Object)]
pub struct SoftwareKeyProvider {
    pan_key: Vec<u8>,
    mak: RwLock<SoftwareMacKey>,
    tmk: Option<Vec<u8>>,
}

impl std::fmt::Debug for SoftwareKeyProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SoftwareKeyProvider(..)")
    }
}

fn key_length(what: &str, zh: &str) -> PosError {
    PosError::InvalidInput {
        code: "KEY_LENGTH".into(),
        message_zh: zh.into(),
        message_en: what.into(),
    }
}

fn check_pan_key(pan_hash_key: &[u8]) -> Result<(), PosError> {
    if pan_hash_key.len() < 16 {
        return Err(key_length(
            "the PAN-hash key needs at least 16 bytes",
            "卡号摘要密钥至少需要 16 字节",
        ));
    }
    Ok(())
}

fn mac_key(mak: &[u8]) -> Result<SoftwareMacKey, PosError> {
    SoftwareMacKey::cup(mak).map_err(|_| {
        key_length(
            "the MAC key must be 8 bytes (single DES) or 16 bytes (double-length 3DES)",
            "MAC 密钥必须为 8 字节（单倍长）或 16 字节（双倍长）",
        )
    })
}

/// A working key that does not decrypt to its check value, or has a bad length.
fn working_key_error(which: &str, which_zh: &str, error: KeyError) -> PosError {
    match error {
        KeyError::CheckValue => PosError::device(
            "KEY_CHECK_VALUE",
            format!("{which_zh}校验值不符：终端主密钥与主机不一致，请灌装正确的主密钥后重新签到"),
            format!(
                "the {which}'s check value does not match: the terminal master key is not the host's; load the right master key and sign on again"
            ),
        ),
        KeyError::Length(n) => PosError::device(
            "KEY_LENGTH",
            format!("{which_zh}长度错误（{n} 字节）：应为 8 或 16 字节"),
            format!("the {which} is {n} bytes; 8 or 16 expected"),
        ),
    }
}

fn check4(bytes: &[u8], which: &str, which_zh: &str) -> Result<[u8; 4], PosError> {
    bytes.try_into().map_err(|_| {
        PosError::device(
            "KEY_CHECK_VALUE",
            format!(
                "{which_zh}校验值长度错误（{} 字节）：应为 4 字节",
                bytes.len()
            ),
            format!(
                "the {which}'s check value is {} bytes; 4 expected",
                bytes.len()
            ),
        )
    })
}

#[uniffi::export]
impl SoftwareKeyProvider {
    /// Keys from bytes: a PAN-hash key of at least 16 bytes and a MAK of 8 bytes (single
    /// DES) or 16 bytes (double-length, as UnionPay hosts use), with the CUP ECB MAC. Without
    /// a master key it cannot take a sign-on's working keys.
    #[uniffi::constructor]
    pub fn new(pan_hash_key: Vec<u8>, mak: Vec<u8>) -> Result<Arc<SoftwareKeyProvider>, PosError> {
        check_pan_key(&pan_hash_key)?;
        Ok(Arc::new(SoftwareKeyProvider {
            pan_key: pan_hash_key,
            mak: RwLock::new(mac_key(&mak)?),
            tmk: None,
        }))
    }

    /// As `new`, with a terminal master key (TMK, 8 or 16 bytes): each approved sign-on's
    /// working keys are decrypted under it, checked, and the MAK replaced.
    #[uniffi::constructor]
    pub fn with_master_key(
        pan_hash_key: Vec<u8>,
        mak: Vec<u8>,
        tmk: Vec<u8>,
    ) -> Result<Arc<SoftwareKeyProvider>, PosError> {
        check_pan_key(&pan_hash_key)?;
        let mak = mac_key(&mak)?;
        check_value(&tmk).map_err(|_| {
            key_length(
                "the master key must be 8 or 16 bytes",
                "主密钥必须为 8 或 16 字节",
            )
        })?;
        Ok(Arc::new(SoftwareKeyProvider {
            pan_key: pan_hash_key,
            mak: RwLock::new(mak),
            tmk: Some(tmk),
        }))
    }

    /// The check value of the MAC key in use, 8 hex digits.
    pub fn mac_key_check(&self) -> String {
        self.mak
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .check_value()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect()
    }
}

#[uniffi::export]
impl KeyProvider for SoftwareKeyProvider {
    fn pan_hash_key(&self) -> Result<Vec<u8>, PosError> {
        Ok(self.pan_key.clone())
    }

    fn mac(&self, data: Vec<u8>) -> Result<Vec<u8>, PosError> {
        Ok(self
            .mak
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .mac(&data)
            .to_vec())
    }

    fn install_working_keys(&self, keys: WorkingKeys) -> Result<(), PosError> {
        let Some(tmk) = &self.tmk else {
            return Err(PosError::device(
                "KEY_NO_MASTER_KEY",
                "未灌装终端主密钥：无法装入签到下发的工作密钥".into(),
                "no terminal master key is loaded: the sign-on's working keys cannot be installed"
                    .into(),
            ));
        };
        let mac_check = check4(&keys.mac_check, "MAC key", "MAC 密钥")?;
        let clear = decrypt_key(tmk, &keys.mac_key, mac_check)
            .map_err(|e| working_key_error("MAC key", "MAC 密钥", e))?;
        // The PIN key is checked too, though not kept here.
        let pin_check = check4(&keys.pin_check, "PIN key", "PIN 密钥")?;
        decrypt_key(tmk, &keys.pin_key, pin_check)
            .map_err(|e| working_key_error("PIN key", "PIN 密钥", e))?;
        let key = SoftwareMacKey::new(keys.mac_algorithm.into(), &clear)
            .map_err(|e| working_key_error("MAC key", "MAC 密钥", e))?;
        *self.mak.write().unwrap_or_else(|e| e.into_inner()) = key;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::MacAlgorithm;
    use poscore_host::keys::encrypt_key;

    const MAK16: [u8; 16] = [
        0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32,
        0x10,
    ];

    fn sign_on_keys(tmk: &[u8], mak: &[u8], algorithm: MacAlgorithm) -> WorkingKeys {
        let pin = [0x5A; 16];
        WorkingKeys {
            pin_key: encrypt_key(tmk, &pin).unwrap(),
            pin_check: check_value(&pin).unwrap().to_vec(),
            mac_key: encrypt_key(tmk, mak).unwrap(),
            mac_check: check_value(mak).unwrap().to_vec(),
            track_key: None,
            track_check: None,
            mac_algorithm: algorithm,
        }
    }

    #[test]
    fn the_mac_is_poscore_isos_for_8_and_16_byte_keys() {
        let data = b"0200 message bytes over MTI..F63";
        for mak in [&MAK16[..], &MAK16[..8]] {
            let keys = SoftwareKeyProvider::new(vec![1; 16], mak.to_vec()).unwrap();
            assert_eq!(
                keys.mac(data.to_vec()).unwrap(),
                poscore_iso8583::cup_ecb_mac(mak, data).unwrap().to_vec()
            );
        }
        for bad in [0usize, 7, 9, 24] {
            let e = SoftwareKeyProvider::new(vec![1; 16], vec![3; bad]).unwrap_err();
            assert_eq!(e.code(), "KEY_LENGTH", "{bad}");
        }
        assert_eq!(
            SoftwareKeyProvider::new(vec![1; 15], MAK16.to_vec())
                .unwrap_err()
                .code(),
            "KEY_LENGTH"
        );
        assert_eq!(
            SoftwareKeyProvider::with_master_key(vec![1; 16], MAK16.to_vec(), vec![0x11; 12])
                .unwrap_err()
                .code(),
            "KEY_LENGTH"
        );
    }

    #[test]
    fn a_sign_ons_working_keys_replace_the_mak() {
        let tmk = [0x11u8; 16];
        let keys =
            SoftwareKeyProvider::with_master_key(vec![1; 32], vec![0x22; 8], tmk.to_vec()).unwrap();
        let data = b"0200 after sign-on".to_vec();
        keys.install_working_keys(sign_on_keys(&tmk, &MAK16, MacAlgorithm::CupEcb))
            .unwrap();
        assert_eq!(
            keys.mac(data.clone()).unwrap(),
            poscore_iso8583::cup_ecb_mac(&MAK16, &data)
                .unwrap()
                .to_vec()
        );
        assert_eq!(keys.mac_key_check(), "08D7B4FB");
        // X9.19 when the host config says so.
        keys.install_working_keys(sign_on_keys(&tmk, &MAK16, MacAlgorithm::X919))
            .unwrap();
        assert_eq!(
            keys.mac(data.clone()).unwrap(),
            poscore_iso8583::x919_mac(&MAK16, &data).unwrap().to_vec()
        );
    }

    #[test]
    fn wrong_keys_are_refused_and_the_old_mak_stays() {
        let keys = SoftwareKeyProvider::with_master_key(vec![1; 32], vec![0x22; 8], vec![0x33; 16])
            .unwrap();
        let before = keys.mac(b"x".to_vec()).unwrap();
        let e = keys
            .install_working_keys(sign_on_keys(&[0x11; 16], &MAK16, MacAlgorithm::CupEcb))
            .unwrap_err();
        assert_eq!(e.code(), "KEY_CHECK_VALUE");
        assert!(e.to_string().contains("master key"), "{e}");
        assert_eq!(keys.mac(b"x".to_vec()).unwrap(), before);
        let mut short = sign_on_keys(&[0x33; 16], &MAK16, MacAlgorithm::CupEcb);
        short.mac_check.pop();
        assert_eq!(
            keys.install_working_keys(short).unwrap_err().code(),
            "KEY_CHECK_VALUE"
        );
        let plain = SoftwareKeyProvider::new(vec![1; 32], vec![0x22; 8]).unwrap();
        let e = plain
            .install_working_keys(sign_on_keys(&[0x11; 16], &MAK16, MacAlgorithm::CupEcb))
            .unwrap_err();
        assert_eq!(e.code(), "KEY_NO_MASTER_KEY");
    }
}
