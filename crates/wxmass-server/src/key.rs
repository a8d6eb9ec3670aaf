//! The server key: 32 random bytes that seal the accounts' secrets
//! (AppSecret, callback token, EncodingAESKey) before they reach the store,
//! so that a copy of the database alone reveals none of them.
//!
//! It comes from `WXMASS_SERVER_KEY` (base64) or from a file, created 0600
//! with a fresh key on first start. Every instance of one deployment needs
//! the same key; losing it loses the secrets (they are entered again).

use std::io::Write as _;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngExt as _;

/// The form of a sealed value: `v1.` then base64 of nonce and ciphertext.
const SEALED_PREFIX: &str = "v1.";

/// What can go wrong with the key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key is not 32 bytes of base64.
    #[error(
        "the server key {0} is not 32 bytes in base64: make a new one with `head -c 32 /dev/urandom | base64`, or remove the file to have one made (the accounts' secrets are then entered again)"
    )]
    Malformed(String),
    /// The key file cannot be read or made.
    #[error("cannot use the server key file {path}: {source}")]
    File {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The key file is readable by others.
    #[error(
        "the server key file {0} is readable by other users: `chmod 600` it (it unlocks every account's secrets)"
    )]
    Exposed(String),
    /// A sealed value does not open with this key.
    #[error(
        "a sealed secret does not open with this server key: is this the deployment's key (WXMASS_SERVER_KEY or the key file)?"
    )]
    WrongKey,
}

/// The key, in memory only.
#[derive(Clone)]
pub struct ServerKey(XChaCha20Poly1305);

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(***)")
    }
}

impl ServerKey {
    /// The key in `base64` (32 bytes).
    pub fn from_base64(base64: &str, source: &str) -> Result<ServerKey, KeyError> {
        let bytes = STANDARD
            .decode(base64.trim())
            .map_err(|_| KeyError::Malformed(source.to_owned()))?;
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| KeyError::Malformed(source.to_owned()))?;
        Ok(ServerKey(XChaCha20Poly1305::new(&bytes.into())))
    }

    /// The key in the file at `path`, made (0600) with a fresh key if there
    /// is none.
    pub fn load_or_create(path: &Path) -> Result<ServerKey, KeyError> {
        let shown = path.display().to_string();
        let file_error = |source| KeyError::File {
            path: shown.clone(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                refuse_exposed(path)?;
                ServerKey::from_base64(&text, &shown)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(file_error)?;
                }
                let key: [u8; 32] = rand::rng().random();
                let text = STANDARD.encode(key);
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(path).map_err(file_error)?;
                file.write_all(text.as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(file_error)?;
                ServerKey::from_base64(&text, &shown)
            }
            Err(e) => Err(file_error(e)),
        }
    }

    /// `plain` sealed: only this key opens it, and any change to it is
    /// found.
    pub fn seal(&self, plain: &[u8]) -> String {
        let nonce: [u8; 24] = rand::rng().random();
        let nonce = XNonce::from(nonce);
        // Encrypting into a Vec cannot fail for inputs this size.
        let sealed = self.0.encrypt(&nonce, plain).unwrap_or_default();
        let mut all = nonce.to_vec();
        all.extend_from_slice(&sealed);
        format!("{SEALED_PREFIX}{}", STANDARD.encode(all))
    }

    /// What [`seal`](Self::seal) sealed.
    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, KeyError> {
        let body = sealed
            .strip_prefix(SEALED_PREFIX)
            .ok_or(KeyError::WrongKey)?;
        let all = STANDARD.decode(body).map_err(|_| KeyError::WrongKey)?;
        if all.len() < 24 {
            return Err(KeyError::WrongKey);
        }
        let (nonce, ciphertext) = all.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| KeyError::WrongKey)?;
        self.0
            .decrypt(&XNonce::from(nonce), ciphertext)
            .map_err(|_| KeyError::WrongKey)
    }
}

#[cfg(unix)]
fn refuse_exposed(path: &Path) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path)
        .map_err(|source| KeyError::File {
            path: path.display().to_string(),
            source,
        })?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(KeyError::Exposed(path.display().to_string()));
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_exposed(_: &Path) -> Result<(), KeyError> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_unchanged() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("server.key");
        let key = ServerKey::load_or_create(&path).expect("made");
        let again = ServerKey::load_or_create(&path).expect("read");
        let sealed = key.seal(b"appsecret");
        assert_ne!(key.seal(b"appsecret"), sealed, "a fresh nonce each time");
        assert!(!sealed.contains("appsecret"));
        assert_eq!(again.open(&sealed).expect("opens"), b"appsecret");
        let other = ServerKey::load_or_create(&dir.path().join("other.key")).expect("other");
        assert!(matches!(other.open(&sealed), Err(KeyError::WrongKey)));
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(key.open(&tampered).is_err());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).expect("chmod");
            assert!(matches!(
                ServerKey::load_or_create(&path),
                Err(KeyError::Exposed(_))
            ));
        }
        assert!(matches!(
            ServerKey::from_base64("c2hvcnQ=", "env"),
            Err(KeyError::Malformed(_))
        ));
        assert_eq!(format!("{key:?}"), "ServerKey(***)");
    }
}
