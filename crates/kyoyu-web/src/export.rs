//! CSV downloads: UTF-8 with a byte-order mark, so spreadsheet software reads the Japanese.

use axum::response::{IntoResponse, Response};
use kyoyu_api::error::ApiError;

pub struct CsvFile(csv::Writer<Vec<u8>>);

impl CsvFile {
    /// A file whose first record is `header`.
    pub fn new<S: AsRef<str>>(header: &[S]) -> Result<CsvFile, ApiError> {
        let mut file = CsvFile(csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec()));
        file.row(header.iter().map(|h| h.as_ref()))?;
        Ok(file)
    }

    pub fn row<S: AsRef<str>>(&mut self, fields: impl IntoIterator<Item = S>) -> Result<(), ApiError> {
        let fields: Vec<String> = fields.into_iter().map(|f| f.as_ref().to_string()).collect();
        self.0.write_record(&fields).map_err(|e| ApiError::internal("CSV row", e))
    }

    /// The file as a download named `filename` (ASCII).
    pub fn download(self, filename: &str) -> Result<Response, ApiError> {
        let bytes = self.0.into_inner().map_err(|e| ApiError::internal("CSV", e))?;
        let disposition = format!("attachment; filename=\"{filename}\"");
        let headers = [("content-type", "text/csv; charset=utf-8".to_string()), ("content-disposition", disposition)];
        Ok((headers, bytes).into_response())
    }
}
