//! Encryption at rest: each blob has its own AES-256 key, which a master key wraps; the
//! bytes are sealed in 64 KiB chunks by the STREAM construction (aead's `stream`), so a file
//! streams through in constant memory, chunks cannot be reordered or cut off, and each is
//! bound to its blob id.

use aes_gcm::aead::stream::{DecryptorBE32, EncryptorBE32};
use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::path::Path;

/// Plaintext bytes per sealed chunk.
pub const CHUNK: usize = 64 * 1024;
/// What sealing adds to each chunk (the GCM tag).
pub const TAG: usize = 16;
/// The nonce prefix STREAM takes with AES-GCM (12 bytes less its 5-byte counter and flag).
const PREFIX: usize = 7;

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("no master key {0} in the key file: was it removed before rotation finished?")]
    UnknownKey(String),
    #[error("a stored file does not decrypt: it was altered or its key is wrong")]
    Tampered,
    #[error("the key file {0}")]
    KeyFile(String),
}

struct MasterKey {
    id: String,
    key: [u8; 32],
}

impl MasterKey {
    fn new(key: [u8; 32]) -> MasterKey {
        let digest = Sha256::new().chain_update(b"kyoyu attachment master key").chain_update(key).finalize();
        MasterKey { id: hex::encode(&digest[..8]), key }
    }
}

/// The master keys: the first wraps new blob keys, the others only unwrap blobs not yet
/// rotated. Kept in a file of base64 lines (newest first), never in the database.
pub struct Keyring {
    keys: Vec<MasterKey>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring").field("key_ids", &self.ids()).finish()
    }
}

fn random<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

impl Keyring {
    /// One fresh key.
    pub fn generate() -> Keyring {
        Keyring { keys: vec![MasterKey::new(random())] }
    }

    /// Reads a key file: one base64 key (32 bytes) per line, the current one first; `#` starts
    /// a comment.
    pub fn parse(text: &str) -> Result<Keyring, CryptoError> {
        let mut keys = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default().trim();
            if line.is_empty() {
                continue;
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(line)
                .map_err(|_| CryptoError::KeyFile(format!("line {}: not base64", n + 1)))?;
            let key: [u8; 32] =
                bytes.try_into().map_err(|_| CryptoError::KeyFile(format!("line {}: a key is 32 bytes", n + 1)))?;
            keys.push(MasterKey::new(key));
        }
        if keys.is_empty() {
            return Err(CryptoError::KeyFile("holds no key".into()));
        }
        Ok(Keyring { keys })
    }

    pub fn to_text(&self) -> String {
        let mut out =
            String::from("# kyoyu attachment master keys: newest first. Back this file up apart from the database.\n");
        for k in &self.keys {
            out.push_str(&base64::engine::general_purpose::STANDARD.encode(k.key));
            out.push_str(&format!("  # {}\n", k.id));
        }
        out
    }

    /// Reads the key file at `path`, creating it with a fresh key (readable by its owner
    /// only) when there is none.
    pub fn load_or_create(path: &Path) -> Result<Keyring, CryptoError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Keyring::parse(&text).map_err(|e| CryptoError::KeyFile(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let ring = Keyring::generate();
                ring.save(path)?;
                tracing::warn!(path = %path.display(), "created a new attachment key file: back it up apart from the database");
                Ok(ring)
            }
            Err(e) => Err(CryptoError::KeyFile(format!("{}: {e}", path.display()))),
        }
    }

    /// Writes the key file whole and then renames it into place, so a crash leaves the old
    /// file or the new one.
    pub fn save(&self, path: &Path) -> Result<(), CryptoError> {
        let part = path.with_extension("part");
        let failed = |e: std::io::Error| CryptoError::KeyFile(format!("{}: {e}", path.display()));
        write_private(&part, self.to_text().as_bytes()).map_err(failed)?;
        std::fs::rename(&part, path).map_err(failed)
    }

    /// A new current key before the existing ones (rotation's first step).
    pub fn with_new_key(self) -> Keyring {
        let mut keys = vec![MasterKey::new(random())];
        keys.extend(self.keys);
        Keyring { keys }
    }

    /// Only the current key (rotation's last step, once nothing is wrapped by the others).
    pub fn current_only(mut self) -> Keyring {
        self.keys.truncate(1);
        self
    }

    pub fn current_id(&self) -> &str {
        &self.keys[0].id
    }

    pub fn ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.id.as_str()).collect()
    }

    fn cipher(&self, key_id: &str) -> Result<Aes256Gcm, CryptoError> {
        let k = self.keys.iter().find(|k| k.id == key_id).ok_or_else(|| CryptoError::UnknownKey(key_id.into()))?;
        Ok(Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&k.key)))
    }

    /// Wraps a blob key with the current master key, bound to the blob's id.
    pub fn wrap(&self, blob_key: &BlobKey, blob_id: &str) -> (String, Vec<u8>) {
        let nonce: [u8; 12] = random();
        let cipher = self.cipher(self.current_id()).expect("the current key is in the ring");
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: &blob_key.0, aad: blob_id.as_bytes() })
            .expect("AES-GCM seals any 32 bytes");
        let mut wrapped = nonce.to_vec();
        wrapped.extend(sealed);
        (self.current_id().to_string(), wrapped)
    }

    pub fn unwrap(&self, key_id: &str, wrapped: &[u8], blob_id: &str) -> Result<BlobKey, CryptoError> {
        if wrapped.len() < 12 {
            return Err(CryptoError::Tampered);
        }
        let (nonce, sealed) = wrapped.split_at(12);
        let key = self
            .cipher(key_id)?
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: blob_id.as_bytes() })
            .map_err(|_| CryptoError::Tampered)?;
        Ok(BlobKey(key.try_into().map_err(|_| CryptoError::Tampered)?))
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// One blob's own key.
pub struct BlobKey([u8; 32]);

impl BlobKey {
    pub fn generate() -> BlobKey {
        BlobKey(random())
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&self.0))
    }
}

/// A fresh nonce prefix for a blob's STREAM.
pub fn nonce_prefix() -> Vec<u8> {
    random::<PREFIX>().to_vec()
}

/// Seals plaintext as it arrives, holding back at most one chunk (the last is sealed apart).
pub struct Sealer {
    stream: EncryptorBE32<Aes256Gcm>,
    held: Vec<u8>,
    aad: Vec<u8>,
    pub chunks: i64,
}

impl Sealer {
    pub fn new(key: &BlobKey, prefix: &[u8], blob_id: &str) -> Sealer {
        let stream = EncryptorBE32::from_aead(key.cipher(), prefix.into());
        Sealer { stream, held: Vec::with_capacity(2 * CHUNK), aad: blob_id.as_bytes().to_vec(), chunks: 0 }
    }

    /// Adds plaintext; answers the chunks now sealed.
    pub fn push(&mut self, mut data: &[u8]) -> Vec<Vec<u8>> {
        let mut sealed = Vec::new();
        while !data.is_empty() {
            let room = CHUNK + 1 - self.held.len();
            let take = room.min(data.len());
            self.held.extend_from_slice(&data[..take]);
            data = &data[take..];
            // A full chunk is sealed only once a byte beyond it shows it is not the last.
            if self.held.len() > CHUNK {
                let rest = self.held.split_off(CHUNK);
                let chunk = std::mem::replace(&mut self.held, rest);
                let out =
                    self.stream.encrypt_next(Payload { msg: &chunk, aad: &self.aad }).expect("sealing cannot fail");
                self.chunks += 1;
                sealed.push(out);
            }
        }
        sealed
    }

    /// Seals what is held as the last chunk; answers it and the number of chunks in all.
    pub fn finish(self) -> (Vec<u8>, i64) {
        let last = self.stream.encrypt_last(Payload { msg: &self.held, aad: &self.aad }).expect("sealing cannot fail");
        (last, self.chunks + 1)
    }
}

/// Opens sealed chunks in order; the caller says which one is the last.
pub struct Opener {
    stream: Option<DecryptorBE32<Aes256Gcm>>,
    aad: Vec<u8>,
}

impl Opener {
    pub fn new(key: &BlobKey, prefix: &[u8], blob_id: &str) -> Result<Opener, CryptoError> {
        if prefix.len() != PREFIX {
            return Err(CryptoError::Tampered);
        }
        let stream = DecryptorBE32::from_aead(key.cipher(), prefix.into());
        Ok(Opener { stream: Some(stream), aad: blob_id.as_bytes().to_vec() })
    }

    pub fn open(&mut self, sealed: &[u8], last: bool) -> Result<Vec<u8>, CryptoError> {
        let payload = Payload { msg: sealed, aad: &self.aad };
        if last {
            let stream = self.stream.take().ok_or(CryptoError::Tampered)?;
            stream.decrypt_last(payload).map_err(|_| CryptoError::Tampered)
        } else {
            let stream = self.stream.as_mut().ok_or(CryptoError::Tampered)?;
            stream.decrypt_next(payload).map_err(|_| CryptoError::Tampered)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seal_all(data: &[u8], pieces: usize) -> (Vec<Vec<u8>>, BlobKey, Vec<u8>) {
        let key = BlobKey::generate();
        let prefix = nonce_prefix();
        let mut sealer = Sealer::new(&key, &prefix, "b1");
        let mut out = Vec::new();
        for piece in data.chunks(pieces.max(1)) {
            out.extend(sealer.push(piece));
        }
        let (last, n) = sealer.finish();
        out.push(last);
        assert_eq!(out.len() as i64, n);
        (out, key, prefix)
    }

    fn open_all(chunks: &[Vec<u8>], key: &BlobKey, prefix: &[u8], id: &str) -> Result<Vec<u8>, CryptoError> {
        let mut opener = Opener::new(key, prefix, id)?;
        let mut plain = Vec::new();
        for (i, c) in chunks.iter().enumerate() {
            plain.extend(opener.open(c, i + 1 == chunks.len())?);
        }
        Ok(plain)
    }

    #[test]
    fn sealed_chunks_open_to_the_same_bytes_whatever_the_pieces() {
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17] {
            let data: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            for pieces in [1000, CHUNK, 7 * CHUNK] {
                let (chunks, key, prefix) = seal_all(&data, pieces);
                assert_eq!(chunks.len(), len.div_ceil(CHUNK).max(1), "{len}");
                assert_eq!(open_all(&chunks, &key, &prefix, "b1").unwrap(), data, "{len} in pieces of {pieces}");
            }
        }
    }

    #[test]
    fn altered_reordered_cut_or_moved_chunks_do_not_open() {
        let data = vec![7u8; 3 * CHUNK];
        let (chunks, key, prefix) = seal_all(&data, CHUNK);
        let mut altered = chunks.clone();
        altered[1][5] ^= 1;
        assert!(open_all(&altered, &key, &prefix, "b1").is_err());
        let mut swapped = chunks.clone();
        swapped.swap(0, 1);
        assert!(open_all(&swapped, &key, &prefix, "b1").is_err());
        assert!(open_all(&chunks[..2], &key, &prefix, "b1").is_err(), "a cut-off file is refused");
        assert!(open_all(&chunks, &key, &prefix, "b2").is_err(), "bound to its blob");
    }

    #[test]
    fn keys_wrap_under_the_current_key_and_unwrap_after_rotation() {
        let ring = Keyring::generate();
        let key = BlobKey::generate();
        let (id, wrapped) = ring.wrap(&key, "b1");
        let rotated = Keyring::parse(&ring.with_new_key().to_text()).unwrap();
        assert_ne!(rotated.current_id(), id);
        assert_eq!(rotated.unwrap(&id, &wrapped, "b1").unwrap().0, key.0);
        assert!(rotated.unwrap(&id, &wrapped, "b2").is_err());
        let (new_id, rewrapped) = rotated.wrap(&key, "b1");
        let current = rotated.current_only();
        assert!(matches!(current.unwrap(&id, &wrapped, "b1"), Err(CryptoError::UnknownKey(_))));
        assert_eq!(current.unwrap(&new_id, &rewrapped, "b1").unwrap().0, key.0);
    }

    #[test]
    fn key_files_refuse_what_is_not_a_key() {
        assert!(Keyring::parse("").is_err());
        assert!(Keyring::parse("not base64!").is_err());
        assert!(Keyring::parse("AAAA").is_err());
    }
}
