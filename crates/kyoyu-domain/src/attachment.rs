//! Files on reports and advisories: their names, the limits on them, and what is recorded
//! about the files inside a sample's zip.

use crate::FieldError;
use serde::{Deserialize, Serialize};

/// The password most analysis tools expect on a sample zip, and the first one tried on an
/// uploaded sample zip.
pub const CONVENTIONAL_PASSWORD: &str = "infected";

/// Passwords tried, after the uploader's own, on a sample uploaded as a password zip.
pub const USUAL_PASSWORDS: &[&str] = &[CONVENTIONAL_PASSWORD, "malware"];

/// The longest file name kept, in characters.
pub const MAX_NAME: usize = 200;

/// How large files may be. Defaults (README): 100 MiB a file, 500 MiB an item, 50 files an
/// item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub file_bytes: u64,
    pub item_bytes: u64,
    pub item_files: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { file_bytes: 100 << 20, item_bytes: 500 << 20, item_files: 50 }
    }
}

/// What the isolated zip inspector may spend on one sample zip; beyond it the zip is refused
/// as a bomb. Defaults: 1,000 entries, 1 GiB unpacked, zips nested 2 deep, 30 seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZipLimits {
    pub entries: u64,
    pub unpacked_bytes: u64,
    pub depth: u32,
    pub seconds: u64,
}

impl Default for ZipLimits {
    fn default() -> Self {
        ZipLimits { entries: 1_000, unpacked_bytes: 1 << 30, depth: 2, seconds: 30 }
    }
}

/// SHA-256, SHA-1 and MD5 of a file, in lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Hashes {
    pub sha256: String,
    pub sha1: String,
    pub md5: String,
}

/// One file found inside a sample's zip (at any depth, `outer.zip/inner.exe`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct InnerFile {
    pub path: String,
    pub size: u64,
    #[serde(flatten)]
    pub hashes: Hashes,
}

/// What the inspector learnt of a sample uploaded as a zip.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Packed {
    /// The password that opened it; absent when it was not encrypted.
    pub password: Option<String>,
    pub files: Vec<InnerFile>,
}

/// A file name as kept and shown: the last path component, without control characters, at
/// most [`MAX_NAME`] characters. Refused when nothing is left.
pub fn clean_name(raw: &str) -> Result<String, FieldError> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let kept: String = last.chars().filter(|c| !c.is_control()).collect();
    let kept = kept.trim().trim_start_matches('.').trim();
    if kept.is_empty() {
        return Err(FieldError::new("file", "ファイル名がありません", "the file has no name"));
    }
    Ok(kept.chars().take(MAX_NAME).collect())
}

/// Whether bytes begin as a zip archive does.
pub fn looks_like_zip(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_paths_controls_and_leading_dots() {
        assert_eq!(clean_name("C:\\tmp\\報告書.pdf").unwrap(), "報告書.pdf");
        assert_eq!(clean_name("../../etc/passwd").unwrap(), "passwd");
        assert_eq!(clean_name("a\u{0}b\r\n.txt").unwrap(), "ab.txt");
        assert_eq!(clean_name(".htaccess").unwrap(), "htaccess");
        assert!(clean_name("dir/").is_err());
        assert!(clean_name(" \u{7} ").is_err());
        assert_eq!(clean_name(&"あ".repeat(300)).unwrap().chars().count(), MAX_NAME);
    }

    #[test]
    fn zips_are_known_by_their_first_bytes() {
        assert!(looks_like_zip(b"PK\x03\x04rest"));
        assert!(!looks_like_zip(b"MZ\x90\x00"));
        assert!(!looks_like_zip(b"PK"));
    }
}
