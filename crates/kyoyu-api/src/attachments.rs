//! Files over HTTP: multipart upload onto reports and advisories, lists, metadata, downloads
//! that never open in a browser, and sample grants. Adapters over `kyoyu_app::files`.

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{Caller, JsonBody};
use crate::query::Params;
use crate::AppState;
use axum::body::Body;
use axum::extract::multipart::{Field, Multipart, MultipartRejection};
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use kyoyu_app::files::{self as ops, AttachmentList, AttachmentView, GrantRequest, GrantView, UploadRequest};
use kyoyu_app::{AppError, AppResult};
use kyoyu_domain::codes::{DownloadAs, FileKind, ItemType};
use kyoyu_domain::Tlp;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

/// The parts of an upload, in this order: `kind`, `tlp` and `password` (each optional), then
/// one `file`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// attachment (default) or sample / 添付資料・検体
    kind: Option<FileKind>,
    /// The item's TLP when absent; it or tighter / 省略時は項目の TLP
    tlp: Option<Tlp>,
    /// A sample zip's password when not infected or malware / ZIP のパスワード
    password: Option<String>,
    /// The file; its part's filename is kept as its name / ファイル
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
}

/// An upload's bytes as the multipart field streams them.
struct FieldUpload<'a>(Field<'a>);

impl ops::Upload for FieldUpload<'_> {
    async fn chunk(&mut self) -> AppResult<Option<Bytes>> {
        self.0.chunk().await.map_err(|e| {
            AppError::field(
                "file",
                format!("ファイルを受け取れませんでした（{e}）"),
                format!("the file did not arrive whole ({e})"),
            )
        })
    }
}

fn multipart_error(e: impl std::fmt::Display) -> ApiError {
    ApiError::field(
        "file",
        format!("multipart/form-data として読めません（{e}）"),
        format!("the body is not readable as multipart/form-data ({e})"),
    )
}

async fn text(field: Field<'_>, name: &str) -> ApiResult<String> {
    let value = field.text().await.map_err(multipart_error)?;
    if value.len() > 200 {
        return Err(ApiError::field(name, "長すぎます", "is too long"));
    }
    Ok(value)
}

fn code<T>(name: &str, value: &str, parse: fn(&str) -> Option<T>) -> ApiResult<T> {
    parse(value).ok_or_else(|| AppError::from(kyoyu_domain::FieldError::unknown_code(name, value)).into())
}

/// Reads the metadata parts, stages the one file, and records it once no other part follows.
async fn receive(
    state: &AppState,
    caller: &Caller,
    item_type: ItemType,
    id: &str,
    mut form: Multipart,
) -> ApiResult<AttachmentView> {
    let mut request = UploadRequest::default();
    let staged = loop {
        let Some(field) = form.next_field().await.map_err(multipart_error)? else {
            return Err(ApiError::field("file", "ファイルがありません", "no file part was sent"));
        };
        match field.name().unwrap_or_default() {
            "kind" => request.kind = Some(code("kind", &text(field, "kind").await?, FileKind::parse)?),
            "tlp" => request.tlp = Some(code("tlp", &text(field, "tlp").await?, Tlp::parse)?),
            "password" => request.password = Some(text(field, "password").await?),
            "file" => {
                request.name = field.file_name().unwrap_or_default().to_string();
                request.media_type = field.content_type().map(str::to_string);
                let mut upload = FieldUpload(field);
                break ops::stage_upload(&state.app, caller, item_type, id, request, &mut upload).await?;
            }
            other => {
                return Err(ApiError::field(other, "この項目は受け付けません", "is not a part of an upload"));
            }
        }
    };
    match form.next_field().await {
        Ok(None) => Ok(ops::commit_upload(&state.app, caller, staged).await?),
        _ => {
            ops::discard_upload(&state.app, staged).await;
            Err(ApiError::field(
                "file",
                "1 回に送れるファイルは 1 つで、最後の部分です",
                "send one file per request, as the last part",
            ))
        }
    }
}

fn upload_rejected(e: MultipartRejection) -> ApiError {
    multipart_error(e.body_text())
}

#[utoipa::path(
    post,
    path = "/api/v1/reports/{id}/attachments",
    operation_id = "uploadReportAttachment",
    tag = "attachments",
    summary = "Attach a file or sample to a report rendition the caller sent / 報告にファイルを添付",
    description = "multipart/form-data: kind, tlp and password (optional) before one file. A sample sent as a zip is hashed by what it holds, in a separate process; a zip bomb or a zip of too many files is refused.",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 201, description = "OK", body = AttachmentView), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody), (status = 409, description = "the item is not in a state that allows this / 状態が合いません", body = ErrorBody)),
)]
pub async fn upload_report_attachment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<AttachmentView>)> {
    let form = form.map_err(upload_rejected)?;
    Ok((StatusCode::CREATED, Json(receive(&state, &caller, ItemType::Report, &id, form).await?)))
}

#[utoipa::path(
    post,
    path = "/api/v1/advisories/{id}/attachments",
    operation_id = "uploadAdvisoryAttachment",
    tag = "attachments",
    summary = "Attach a file or sample to an advisory draft / 情報提供にファイルを添付",
    description = "multipart/form-data, as for reports.",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 201, description = "OK", body = AttachmentView), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody), (status = 409, description = "the item is not in a state that allows this / 状態が合いません", body = ErrorBody)),
)]
pub async fn upload_advisory_attachment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<AttachmentView>)> {
    let form = form.map_err(upload_rejected)?;
    Ok((StatusCode::CREATED, Json(receive(&state, &caller, ItemType::Advisory, &id, form).await?)))
}

#[utoipa::path(
    post,
    path = "/api/v1/partner-information/{id}/attachments",
    operation_id = "uploadPartnerAttachment",
    tag = "attachments",
    summary = "Attach a file or sample to partner information the caller sent / 関係機関からの情報にファイルを添付",
    description = "multipart/form-data, as for reports. Readers other than the sender and the coordinator are not told who uploaded it.",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 201, description = "OK", body = AttachmentView), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody)),
)]
pub async fn upload_partner_attachment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<AttachmentView>)> {
    let form = form.map_err(upload_rejected)?;
    Ok((StatusCode::CREATED, Json(receive(&state, &caller, ItemType::Partner, &id, form).await?)))
}

/// Which files to list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AttachmentQuery {
    /// A report rendition or advisory; without it, the samples granted to the caller's
    /// organisation / 項目の ID
    item_id: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/attachments",
    operation_id = "listAttachments",
    tag = "attachments",
    summary = "The files on an item, or the samples granted to the caller / ファイル一覧",
    params(AttachmentQuery),
    responses((status = 200, description = "OK", body = AttachmentList), (status = 404, description = "no such item, or one the caller may not read / 見つかりません", body = ErrorBody)),
)]
pub async fn list_attachments(
    State(state): State<AppState>,
    caller: Caller,
    Params(query): Params<AttachmentQuery>,
) -> ApiResult<Json<AttachmentList>> {
    Ok(Json(ops::list_attachments(&state.app, &caller, query.item_id.as_deref()).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/attachments/{id}",
    operation_id = "getAttachment",
    tag = "attachments",
    summary = "A file's metadata, kind and hashes / ファイルの情報",
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 200, description = "OK", body = AttachmentView)),
)]
pub async fn get_attachment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<AttachmentView>> {
    Ok(Json(ops::get_attachment(&state.app, &caller, &id).await?))
}

/// How to download.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DownloadQuery {
    /// raw (refused for samples), aes-zip (default), zipcrypto-zip (password infected) or
    /// original (a sample that arrived as a password zip) / 取得形式
    #[param(inline)]
    #[serde(rename = "as")]
    how: Option<DownloadAs>,
    /// The AES zip's password; infected when absent / AES ZIP のパスワード
    password: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/attachments/{id}/download",
    operation_id = "downloadAttachment",
    tag = "attachments",
    summary = "A file's bytes, always as a download, never opened / ファイルの取得",
    params(("id" = String, Path, description = "The item's id / ID"), DownloadQuery),
    responses((status = 200, description = "The bytes (Content-Disposition: attachment): the file as it is, or a zip",
        content((Vec<u8> = "application/octet-stream"), (Vec<u8> = "application/zip")))),
)]
pub async fn download_attachment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Params(query): Params<DownloadQuery>,
) -> ApiResult<Response> {
    let how = query.how.unwrap_or(DownloadAs::AesZip);
    let download = ops::download(&state.app, &caller, &id, how, query.password).await?;
    Ok(download_response(download))
}

/// The answer of a download: a download in every browser, never rendered, sniffed or cached.
pub fn download_response(d: ops::Download) -> Response {
    let mut response = Body::from_stream(d.body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(d.content_type));
    if let Ok(v) = HeaderValue::from_str(&content_disposition(&d.file_name)) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Some(n) = d.length {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(n));
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("default-src 'none'; sandbox"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `attachment` with an ASCII fallback name and the real one per RFC 6266 / RFC 8187.
fn content_disposition(name: &str) -> String {
    let ascii: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[utoipa::path(
    post,
    path = "/api/v1/attachments/{id}/grants",
    operation_id = "grantSampleAccess",
    tag = "attachments",
    summary = "Share a sample with an analysis partner until a date (coordinator) / 分析協力機関への検体共有",
    request_body(content = GrantRequest, content_type = "application/json"),
    params(("id" = String, Path, description = "The item's id / ID")),
    responses((status = 201, description = "OK", body = GrantView), (status = 403, description = "the caller's role may not do this / 権限がありません", body = ErrorBody)),
)]
pub async fn grant_sample_access(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    JsonBody(request): JsonBody<GrantRequest>,
) -> ApiResult<(StatusCode, Json<GrantView>)> {
    Ok((StatusCode::CREATED, Json(ops::grant_sample_access(&state.app, &caller, &id, request).await?)))
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn names_are_quoted_safely_and_kept_in_utf8() {
        assert_eq!(
            content_disposition("報告 \"a\".pdf"),
            "attachment; filename=\"____a_.pdf\"; filename*=UTF-8''%E5%A0%B1%E5%91%8A%20%22a%22.pdf"
        );
    }
}
