//! The password zip a sample (or, on request, any file) is downloaded in: the file itself
//! and a `.txt` beside it giving its original name and hashes. Written on a blocking thread
//! into a temporary file, fed chunk by chunk, so a large file never sits whole in memory.

use std::io::{Seek, Write};
use zip::write::{FileOptions, SimpleFileOptions};

/// Which encryption the zip uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Aes256,
    /// The legacy scheme some analysis tools still need (weak: it only keeps antivirus and
    /// accidental clicks away).
    ZipCrypto,
}

fn options(scheme: Scheme, password: &str) -> FileOptions<'_, ()> {
    let plain = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored).large_file(true);
    match scheme {
        Scheme::Aes256 => plain.with_aes_encryption(zip::AesMode::Aes256, password),
        Scheme::ZipCrypto => {
            use zip::unstable::write::FileOptionsExt;
            plain.with_deprecated_encryption(password.as_bytes())
        }
    }
}

/// Writes the zip into `out`: `name` fed from `chunks` until it closes, then `note` as
/// `name.txt`. Answers `out` rewound, ready to be streamed.
pub fn write_zip<W: Write + Seek>(
    out: W,
    name: &str,
    note: &str,
    scheme: Scheme,
    password: &str,
    mut chunks: tokio::sync::mpsc::Receiver<Vec<u8>>,
) -> zip::result::ZipResult<W> {
    let mut zip = zip::ZipWriter::new(out);
    zip.start_file(name, options(scheme, password))?;
    while let Some(chunk) = chunks.blocking_recv() {
        zip.write_all(&chunk)?;
    }
    zip.start_file(format!("{name}.txt"), options(scheme, password))?;
    zip.write_all(note.as_bytes())?;
    let mut out = zip.finish()?;
    out.rewind()?;
    Ok(out)
}
