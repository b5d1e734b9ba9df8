//! Secrets at rest: AES-256-GCM with a random 96-bit nonce per seal, stored
//! as `nonce || ciphertext+tag`. The key comes from `APP_ENCRYPTION_KEY`
//! (32 bytes, base64 or hex) or, in the embedded default, from a key file the
//! server creates once in its data directory.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use domain::ingestion::{AccessToken, SecretBox, SecretError};
use rand::RngCore;

const NONCE_LEN: usize = 12;

/// A key that is not 32 bytes of base64 or hex, or a key file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "APP_ENCRYPTION_KEY must be 32 bytes, base64 or hex encoded (e.g. `openssl rand -base64 32`)"
    )]
    Invalid,
    #[error("encryption key file {path}: {reason}")]
    File { path: String, reason: String },
}

/// AES-256-GCM sealing of platform tokens.
pub struct AesSecretBox {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for AesSecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AesSecretBox(<key>)")
    }
}

fn decode_key(text: &str) -> Result<[u8; 32], KeyError> {
    let text = text.trim();
    let bytes = hex::decode(text)
        .ok()
        .filter(|b| b.len() == 32)
        .or_else(|| {
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .ok()
                .filter(|b| b.len() == 32)
        })
        .ok_or(KeyError::Invalid)?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| KeyError::Invalid)
}

impl AesSecretBox {
    /// From a base64 or hex encoded 32-byte key.
    ///
    /// # Errors
    /// The text is not a 32-byte key.
    pub fn from_encoded(text: &str) -> Result<Self, KeyError> {
        let key = decode_key(text)?;
        Ok(Self {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key)),
        })
    }

    /// From the key file at `path`, creating it (mode 0600, random key) when
    /// missing. Returns whether the file was created, for the start-up log.
    ///
    /// # Errors
    /// The file cannot be read or written, or does not hold a key.
    pub fn from_key_file(path: &Path) -> Result<(Self, bool), KeyError> {
        let file_err = |e: std::io::Error| KeyError::File {
            path: path.display().to_string(),
            reason: e.to_string(),
        };
        if path.exists() {
            let text = std::fs::read_to_string(path).map_err(file_err)?;
            return Ok((Self::from_encoded(&text)?, false));
        }
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(file_err)?;
        }
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        let text = base64::engine::general_purpose::STANDARD.encode(key);
        write_private(path, &text).map_err(file_err)?;
        Ok((Self::from_encoded(&text)?, true))
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

impl SecretBox for AesSecretBox {
    fn seal(&self, plain: &str) -> Result<Vec<u8>, SecretError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), plain.as_bytes())
            .map_err(|_| SecretError::Seal)?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    fn open(&self, sealed: &[u8]) -> Result<AccessToken, SecretError> {
        if sealed.len() <= NONCE_LEN {
            return Err(SecretError::Open);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), body)
            .map_err(|_| SecretError::Open)?;
        String::from_utf8(plain)
            .map(AccessToken::new)
            .map_err(|_| SecretError::Open)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // base64 of 32 ASCII bytes

    #[test]
    fn seals_and_opens_with_a_fresh_nonce_each_time() {
        let b = AesSecretBox::from_encoded(KEY).unwrap();
        let a = b.seal("EAAB-token").unwrap();
        let c = b.seal("EAAB-token").unwrap();
        assert_ne!(a, c, "same plaintext, different nonce");
        assert!(!a.windows(10).any(|w| w == b"EAAB-token"));
        assert_eq!(b.open(&a).unwrap().expose(), "EAAB-token");
    }

    #[test]
    fn refuses_altered_data_and_another_key() {
        let b = AesSecretBox::from_encoded(KEY).unwrap();
        let mut sealed = b.seal("EAAB-token").unwrap();
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert_eq!(b.open(&sealed), Err(SecretError::Open));
        let other = AesSecretBox::from_encoded(&hex::encode([7u8; 32])).unwrap();
        assert_eq!(other.open(&b.seal("x").unwrap()), Err(SecretError::Open));
    }

    #[test]
    fn rejects_keys_that_are_not_32_bytes() {
        assert!(AesSecretBox::from_encoded("c2hvcnQ=").is_err());
        assert!(AesSecretBox::from_encoded("").is_err());
    }

    #[test]
    fn key_file_is_created_once_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("encryption.key");
        let (a, created) = AesSecretBox::from_key_file(&path).unwrap();
        assert!(created);
        let sealed = a.seal("tok").unwrap();
        let (b, created) = AesSecretBox::from_key_file(&path).unwrap();
        assert!(!created);
        assert_eq!(b.open(&sealed).unwrap().expose(), "tok");
    }
}
