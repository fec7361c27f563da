//! Hashing the files inside a sample's zip, in a separate process (`kyoyu inspect-zip`), so
//! that a hostile archive (a bomb, a parser bug) can cost that process and nothing of the
//! server's. The server sends one JSON line of [`Job`] and then the zip on the worker's
//! stdin, and reads one JSON [`Outcome`] from its stdout; it kills the worker after the
//! time limit.

use kyoyu_domain::attachment::{Hashes, InnerFile, Packed, ZipLimits};
use serde::{Deserialize, Serialize};
use std::io::{Cursor, Read};

/// What the worker is asked.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    pub passwords: Vec<String>,
    pub limits: ZipLimits,
    /// The most bytes the zip itself may have.
    pub max_input: u64,
}

/// Why a zip was refused, in words for the uploader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refused {
    pub ja: String,
    pub en: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Packed(Packed),
    Refused(Refused),
}

fn refused(ja: impl Into<String>, en: impl Into<String>) -> Refused {
    Refused { ja: ja.into(), en: en.into() }
}

/// The three hashes of a stream, computed together.
#[derive(Default)]
pub struct Hasher {
    sha256: sha2::Sha256,
    sha1: sha1::Sha1,
    md5: md5::Md5,
    pub bytes: u64,
}

impl Hasher {
    pub fn update(&mut self, data: &[u8]) {
        use sha2::Digest;
        self.sha256.update(data);
        self.sha1.update(data);
        self.md5.update(data);
        self.bytes += data.len() as u64;
    }

    pub fn finish(self) -> Hashes {
        use sha2::Digest;
        Hashes {
            sha256: hex::encode(self.sha256.finalize()),
            sha1: hex::encode(self.sha1.finalize()),
            md5: hex::encode(self.md5.finalize()),
        }
    }
}

/// The worker's whole run: a job line, then the zip, on `input`; the outcome as JSON.
pub fn run_worker(mut input: impl std::io::BufRead) -> Outcome {
    let mut line = String::new();
    let job: Job = match input.read_line(&mut line).ok().and_then(|_| serde_json::from_str(&line).ok()) {
        Some(job) => job,
        None => return Outcome::Refused(refused("検査の指示が読めません", "the inspection job is unreadable")),
    };
    let mut zip = Vec::new();
    if input.take(job.max_input + 1).read_to_end(&mut zip).is_err() || zip.len() as u64 > job.max_input {
        return Outcome::Refused(refused("ZIP が大きすぎます", "the zip is too large"));
    }
    match inspect(&zip, &job.passwords, &job.limits) {
        Ok(packed) => Outcome::Packed(packed),
        Err(r) => Outcome::Refused(r),
    }
}

struct Budget {
    entries: u64,
    bytes: u64,
}

/// The files inside `zip` (and inside zips within it, to the depth allowed), with the first
/// of `passwords` that opens it.
pub fn inspect(zip: &[u8], passwords: &[String], limits: &ZipLimits) -> Result<Packed, Refused> {
    let mut budget = Budget { entries: limits.entries, bytes: limits.unpacked_bytes };
    let mut files = Vec::new();
    let password = walk(zip, "", passwords, limits, 0, &mut budget, &mut files)?;
    Ok(Packed { password, files })
}

fn walk(
    zip: &[u8],
    prefix: &str,
    passwords: &[String],
    limits: &ZipLimits,
    depth: u32,
    budget: &mut Budget,
    files: &mut Vec<InnerFile>,
) -> Result<Option<String>, Refused> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip))
        .map_err(|e| refused(format!("ZIP として読めません（{e}）"), format!("not a readable zip ({e})")))?;
    if archive.len() as u64 > budget.entries {
        return Err(refused(
            format!("ZIP の中のファイルが多すぎます（{} 件まで）", limits.entries),
            format!("the zip holds too many files (at most {})", limits.entries),
        ));
    }
    budget.entries -= archive.len() as u64;
    let password = find_password(&mut archive, passwords)?;
    for i in 0..archive.len() {
        let mut entry = match &password {
            Some(p) => archive.by_index_decrypt(i, p.as_bytes()),
            None => archive.by_index(i),
        }
        .map_err(|e| refused(format!("ZIP の中身を読めません（{e}）"), format!("cannot read inside the zip ({e})")))?;
        if entry.is_dir() {
            continue;
        }
        let path = format!("{prefix}{}", entry.name());
        let (hashes, size, head) = hash_entry(&mut entry, budget, limits)?;
        drop(entry);
        files.push(InnerFile { path: path.clone(), size, hashes });
        if let Some(inner) = head {
            if depth + 1 > limits.depth {
                return Err(refused(
                    format!("ZIP の入れ子が深すぎます（{} 段まで）", limits.depth),
                    format!("zips are nested too deep (at most {})", limits.depth),
                ));
            }
            walk(&inner, &format!("{path}/"), passwords, limits, depth + 1, budget, files)?;
        }
    }
    Ok(password)
}

fn too_large(limits: &ZipLimits) -> Refused {
    refused(
        format!("展開後の大きさが上限（{} MiB）を超えます。ZIP 爆弾の可能性があります", limits.unpacked_bytes >> 20),
        format!("unpacked, it exceeds {} MiB: a zip bomb, perhaps", limits.unpacked_bytes >> 20),
    )
}

/// Hashes one entry, charging its bytes to the budget as they come (so a bomb stops at the
/// limit, whatever its header claims). A nested zip is kept whole for the next level.
fn hash_entry(
    entry: &mut impl Read,
    budget: &mut Budget,
    limits: &ZipLimits,
) -> Result<(Hashes, u64, Option<Vec<u8>>), Refused> {
    let mut hasher = Hasher::default();
    let mut buf = vec![0u8; 64 * 1024];
    let mut kept: Option<Vec<u8>> = None;
    let mut first = true;
    loop {
        let n = entry.read(&mut buf).map_err(|e| {
            refused(format!("ZIP の中身を読めません（{e}）"), format!("cannot read inside the zip ({e})"))
        })?;
        if n == 0 {
            break;
        }
        if n as u64 > budget.bytes {
            return Err(too_large(limits));
        }
        budget.bytes -= n as u64;
        if first {
            first = false;
            if kyoyu_domain::attachment::looks_like_zip(&buf[..n]) {
                kept = Some(Vec::new());
            }
        }
        if let Some(k) = kept.as_mut() {
            k.extend_from_slice(&buf[..n]);
        }
        hasher.update(&buf[..n]);
    }
    let size = hasher.bytes;
    Ok((hasher.finish(), size, kept))
}

/// None when nothing in the zip is encrypted; otherwise the first password that opens and
/// checks out on an encrypted entry (ZipCrypto's one-byte check passes a wrong password
/// one time in 256, so the entry is read through to its CRC).
fn find_password(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    passwords: &[String],
) -> Result<Option<String>, Refused> {
    let encrypted = (0..archive.len()).find(|&i| archive.by_index_raw(i).map(|e| e.encrypted()).unwrap_or(false));
    let Some(index) = encrypted else { return Ok(None) };
    for p in passwords {
        if let Ok(mut entry) = archive.by_index_decrypt(index, p.as_bytes()) {
            if std::io::copy(&mut (&mut entry).take(1 << 30), &mut std::io::sink()).is_ok() {
                return Ok(Some(p.clone()));
            }
        }
    }
    Err(refused(
        "パスワードが合いません。ZIP のパスワードを添えてください（infected と malware は試しました）",
        "no password opened the zip: give its password (infected and malware were tried)",
    ))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;
    use zip::write::SimpleFileOptions;

    pub(crate) fn zip_of(files: &[(&str, &[u8])], password: Option<&str>) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, bytes) in files {
            let mut o = SimpleFileOptions::default();
            if let Some(p) = password {
                o = o.with_aes_encryption(zip::AesMode::Aes256, p);
            }
            w.start_file(*name, o).unwrap();
            w.write_all(bytes).unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    fn hashes_of(bytes: &[u8]) -> Hashes {
        let mut h = Hasher::default();
        h.update(bytes);
        h.finish()
    }

    fn usual() -> Vec<String> {
        vec!["infected".into(), "malware".into()]
    }

    #[test]
    fn a_password_zip_is_hashed_by_what_it_holds() {
        let zip = zip_of(&[("evil.exe", b"MZ payload"), ("note.txt", b"hello")], Some("malware"));
        let packed = inspect(&zip, &usual(), &ZipLimits::default()).unwrap();
        assert_eq!(packed.password.as_deref(), Some("malware"));
        assert_eq!(packed.files[0].path, "evil.exe");
        assert_eq!(packed.files[0].hashes, hashes_of(b"MZ payload"));
        assert_eq!(packed.files[1].size, 5);
    }

    #[test]
    fn nested_zips_are_walked_to_the_depth_allowed() {
        let inner = zip_of(&[("deep.bin", b"deep")], None);
        let outer = zip_of(&[("inner.zip", &inner)], Some("infected"));
        let packed = inspect(&outer, &usual(), &ZipLimits::default()).unwrap();
        let paths: Vec<&str> = packed.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["inner.zip", "inner.zip/deep.bin"]);
        let shallow = ZipLimits { depth: 0, ..ZipLimits::default() };
        assert!(inspect(&outer, &usual(), &shallow).unwrap_err().en.contains("nested"));
    }

    #[test]
    fn wrong_passwords_bombs_and_crowds_are_refused() {
        let zip = zip_of(&[("a", b"x")], Some("secret"));
        assert!(inspect(&zip, &usual(), &ZipLimits::default()).unwrap_err().en.contains("password"));
        assert!(inspect(&zip, &["secret".into()], &ZipLimits::default()).is_ok());
        let big = vec![0u8; 4 << 20];
        let bomb = zip_of(&[("zeros", &big)], None);
        let small = ZipLimits { unpacked_bytes: 1 << 20, ..ZipLimits::default() };
        assert!(inspect(&bomb, &[], &small).unwrap_err().en.contains("zip bomb"));
        let names: Vec<String> = (0..20).map(|i| format!("f{i}")).collect();
        let many: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
        let crowd = ZipLimits { entries: 10, ..ZipLimits::default() };
        assert!(inspect(&zip_of(&many, None), &[], &crowd).unwrap_err().en.contains("too many"));
        assert!(inspect(b"not a zip", &[], &ZipLimits::default()).unwrap_err().en.contains("not a readable zip"));
    }
}
