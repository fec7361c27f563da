//! What `kyoyu attachments` runs: re-wrapping blob keys under a new master key, and checking
//! that every stored file decrypts and matches its hash.

use super::crypto::{Keyring, Opener};
use super::inspect::Hasher;
use crate::{AppError, AppResult};
use kyoyu_store::{Actor, BlobRow, Store};
use serde_json::json;

/// Blobs handled per transaction or page.
pub const PAGE: i64 = 200;

/// Re-wraps, under the ring's current key, the keys of `blobs` still wrapped by another.
/// Answers how many it re-wrapped.
pub async fn rewrap(store: &Store, ring: &Keyring, blobs: &[BlobRow]) -> AppResult<usize> {
    let stale: Vec<&BlobRow> = blobs.iter().filter(|b| b.key_id != ring.current_id()).collect();
    if stale.is_empty() {
        return Ok(0);
    }
    let mut tx = store.begin(Actor::default()).await?;
    let mut done = 0;
    for b in &stale {
        let key = ring.unwrap(&b.key_id, &b.wrapped_key, &b.id).map_err(|e| AppError::internal("a file key", e))?;
        let (key_id, wrapped) = ring.wrap(&key, &b.id);
        // A blob re-wrapped meanwhile by another run is left as it is.
        if tx.rewrap_blob(&b.id, &b.key_id, &key_id, &wrapped).await? {
            done += 1;
        }
    }
    tx.audit("attachment.rotate_key", "attachment_key", ring.current_id(), json!({"rewrapped": done})).await?;
    tx.commit().await?;
    Ok(done)
}

/// Decrypts a blob whole (in constant memory) and compares its SHA-256 with the one recorded.
pub async fn verify_blob(store: &Store, ring: &Keyring, b: &BlobRow) -> Result<(), String> {
    let key = ring.unwrap(&b.key_id, &b.wrapped_key, &b.id).map_err(|e| e.to_string())?;
    let mut opener = Opener::new(&key, &b.nonce_prefix, &b.id).map_err(|e| e.to_string())?;
    let mut reader = store.blob_reader(&b.id, b.chunks).await.map_err(|e| e.to_string())?;
    let mut hasher = Hasher::default();
    let mut n = 0;
    while let Some(sealed) = reader.next().await.map_err(|e| e.to_string())? {
        n += 1;
        hasher.update(&opener.open(&sealed, n == b.chunks).map_err(|e| e.to_string())?);
    }
    let size = hasher.bytes;
    let hashes = hasher.finish();
    if hashes.sha256 != b.sha256 || size != b.size as u64 {
        return Err("its bytes do not match the recorded hash".into());
    }
    Ok(())
}
