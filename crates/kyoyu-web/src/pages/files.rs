//! Files on a report or an advisory page: the list with size, kind, TLP and hashes; the
//! download choices the policy allows (samples only as password zips); the upload form
//! (several files, with progress where JavaScript runs); the coordinator's sample grants.
//! Adapters over `kyoyu_app::files`.

use crate::call::Names;
use crate::i18n::Label;
use crate::layout::{csrf, see_other, tlp_tag, WebResult};
use crate::session::Web;
use axum::extract::multipart::{Field, Multipart};
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use kyoyu_api::error::ApiError;
use kyoyu_api::AppState;
use kyoyu_app::files::{self as ops, AttachmentList, AttachmentView, GrantRequest, UploadRequest};
use kyoyu_app::{AppError, AppResult};
use kyoyu_domain::attachment::CONVENTIONAL_PASSWORD;
use kyoyu_domain::codes::{DownloadAs, FileKind, ItemType, OrgKind};
use kyoyu_domain::Tlp;
use maud::{html, Markup};
use serde::Deserialize;

/// Sizes as people read them.
fn size(bytes: i64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

/// The page of an item.
pub(crate) fn item_path(item_type: ItemType, id: &str) -> String {
    match item_type {
        ItemType::Report => format!("/reports/{id}"),
        ItemType::Advisory => format!("/advisories/{id}"),
        ItemType::Partner => format!("/partner-information/{id}"),
    }
}

/// The notice after a files action, for the item pages' own notices.
pub fn done_text(done: Option<&str>) -> Option<(&'static str, &'static str)> {
    match done {
        Some("attached") => Some(("ファイルを添付しました。", "The files have been attached.")),
        Some("filed_with_files") => {
            Some(("報告を送信し、ファイルを添付しました。", "The report has been sent with its files."))
        }
        Some("granted") => Some((
            "検体を分析協力機関に共有しました。取得はすべて監査されます。",
            "The sample has been shared with the analysis partner; every download is audited.",
        )),
        _ => None,
    }
}

/// The files section of an item page: empty when the item has no files and takes none.
pub async fn section(
    state: &AppState,
    web: &Web,
    item_type: ItemType,
    item_id: &str,
    names: &Names,
) -> Result<Markup, ApiError> {
    let list = ops::list_attachments(&state.app, &web.caller, Some(item_id)).await?;
    Ok(render(web, item_type, item_id, &list, names))
}

fn render(web: &Web, item_type: ItemType, item_id: &str, list: &AttachmentList, names: &Names) -> Markup {
    let partners: Vec<(String, String)> = names
        .all()
        .filter(|o| o.kind == OrgKind::SecurityInstitution && o.analysis_partner)
        .map(|o| (o.id.clone(), web.t(&o.name_ja, &o.name_en).to_string()))
        .collect();
    html! {
        @if !list.items.is_empty() || list.may_attach {
            section.files {
                h2 { (web.t("添付ファイル・検体", "Files and samples")) }
                @if list.items.is_empty() {
                    p.muted { (web.t("ファイルはまだありません。", "No files yet.")) }
                } @else {
                    table.files {
                        thead { tr {
                            th { (web.t("ファイル名", "Name")) } th { (web.t("種別", "Kind")) } th { (web.t("大きさ", "Size")) }
                            th { "TLP" } th { (web.t("ハッシュ値", "Hashes")) } th { (web.t("取得", "Download")) }
                        } }
                        tbody { @for f in &list.items { (row(web, f, names, &partners, &item_path(item_type, item_id))) } }
                    }
                    p.muted { (web.t(
                        "検体はパスワード付き ZIP でのみ取得できます（既定のパスワードは infected）。サーバでもブラウザでも開かれません。",
                        "Samples download only inside a password zip (password infected unless you set one); they are never opened on the server or in the browser.")) }
                }
                @if list.may_attach { (upload_form(web, item_type, item_id)) }
            }
        }
    }
}

fn row(web: &Web, f: &AttachmentView, names: &Names, partners: &[(String, String)], back: &str) -> Markup {
    html! {
        tr {
            td {
                (f.name)
                @if let Some(org) = &f.uploader_org_id { br; small.muted { (names.name(Some(org), web.lang)) } }
            }
            td { (f.kind.label(web.lang)) }
            td { (size(f.size)) }
            td { (tlp_tag(Some(f.tlp.code()))) }
            td.hashes {
                code { "SHA-256 " (f.hashes.sha256) } br;
                code { "SHA-1 " (f.hashes.sha1) } br;
                code { "MD5 " (f.hashes.md5) }
                @if let Some(p) = &f.packed {
                    details {
                        summary { (web.t("ZIP の中身", "Inside the zip")) " (" (p.files.len()) ")" }
                        ul { @for inner in &p.files { li { (inner.path) " — " (size(inner.size as i64)) br; code { (inner.hashes.sha256) } } } }
                    }
                }
            }
            td { (downloads(web, f)) (grant_form(web, f, partners, back)) }
        }
    }
}

fn downloads(web: &Web, f: &AttachmentView) -> Markup {
    let href = |how: DownloadAs| format!("/files/{}/download?as={}", f.id, how.code());
    html! {
        ul.downloads {
            @for how in &f.download {
                li { a href=(href(*how)) download { (how.label(web.lang)) } }
            }
        }
        @if f.download.contains(&DownloadAs::AesZip) {
            form.inline method="get" action={ "/files/" (f.id) "/download" } {
                input type="hidden" name="as" value="aes-zip";
                label { (web.t("ZIP のパスワード", "Zip password")) " "
                    input type="text" name="password" placeholder=(CONVENTIONAL_PASSWORD) autocomplete="off" maxlength="128"; }
                button.secondary type="submit" { (web.t("このパスワードで取得", "Download with it")) }
            }
        }
    }
}

fn grant_form(web: &Web, f: &AttachmentView, partners: &[(String, String)], back: &str) -> Markup {
    html! {
        @if f.grantable && !partners.is_empty() {
            details {
                summary { (web.t("分析協力機関に共有…", "Share with an analysis partner…")) }
                form method="post" action={ "/files/" (f.id) "/grants" } {
                    (csrf(web))
                    input type="hidden" name="back" value=(back);
                    label { (web.t("共有先", "Partner")) " " select name="org_id" { @for (id, name) in partners { option value=(id) { (name) } } } }
                    label { (web.t("期間（日）", "Days")) " " input type="number" name="days" min="1" max="90" value="14"; }
                    button type="submit" { (web.t("共有する（監査されます）", "Share (audited)")) }
                }
            }
        }
    }
}

fn upload_form(web: &Web, item_type: ItemType, item_id: &str) -> Markup {
    let action = format!("{}/files", item_path(item_type, item_id));
    html! {
        details.upload open {
            summary { (web.t("ファイルを添付する", "Attach files")) }
            form method="post" enctype="multipart/form-data" action=(action) data-upload {
                (csrf(web))
                label { (web.t("種別", "Kind")) " "
                    select name="kind" { @for k in FileKind::ALL { option value=(k.code()) { (k.label(web.lang)) } } } }
                label { "TLP " select name="tlp" {
                    option value="" { (web.t("項目と同じ", "Same as the item")) }
                    @for t in Tlp::ALL { option value=(t.code()) { (t.code()) } }
                } }
                label { (web.t("検体 ZIP のパスワード（infected・malware 以外のとき）", "Sample zip password (if not infected or malware)")) " "
                    input type="text" name="password" autocomplete="off" maxlength="128"; }
                label { (web.t("ファイル（複数可）", "Files (several allowed)")) " " input type="file" name="file" multiple required; }
                progress hidden max="100" value="0" {}
                button type="submit" { (web.t("添付する", "Attach")) }
            }
        }
    }
}

/// The files part of the report form: their kind, then the files (several), last in the form.
pub fn files_on_form(web: &Web) -> Markup {
    html! {
        fieldset.files {
            legend { (web.t("別紙（添付ファイル・検体）", "Attachments (files and samples)")) }
            label { (web.t("種別", "Kind")) " "
                select name=(FILES_FOLLOW) { @for k in FileKind::ALL { option value=(k.code()) { (k.label(web.lang)) } } } }
            label { (web.t("ファイル（複数可。添付すると別紙「有」になります）", "Files (several allowed; attaching marks the report as having attachments)")) " "
                input type="file" name="file" multiple; }
        }
    }
}

/// After a report with files was filed: its files, then the report page (with a notice
/// naming a file that could not be attached; the report itself was sent).
pub(crate) async fn after_filing(
    state: &AppState,
    web: &Web,
    id: &str,
    form: &crate::form::FormData,
    parts: &mut Multipart,
) -> WebResult {
    let request = UploadRequest { kind: form.get(FILES_FOLLOW).and_then(FileKind::parse), ..UploadRequest::default() };
    match upload_rest(state, web, ItemType::Report, id, &request, parts).await {
        Ok(0) => see_other(&format!("/reports/{id}?done=filed")),
        Ok(n) => see_other(&format!("/reports/{id}?done=filed_with_files&files={n}")),
        Err(e) => {
            let sent = html! {
                div.notice role="status" { (web.t("報告は送信されました。次のファイルは添付できませんでした。報告の画面から添付し直してください。",
                    "The report was sent, but a file could not be attached; attach it again from the report's page.")) }
            };
            let back = (format!("/reports/{id}"), web.t("報告を開く", "Open the report"));
            refused(web, e, sent, back)
        }
    }
}

/// A text part of the upload form, refused when long.
async fn text(field: Field<'_>, name: &str) -> AppResult<String> {
    let value = field.text().await.map_err(|_| AppError::field(name, "読めません", "could not be read"))?;
    if value.len() > 200 {
        return Err(AppError::field(name, "長すぎます", "is too long"));
    }
    Ok(value)
}

struct FieldUpload<'a>(Field<'a>);

impl ops::Upload for FieldUpload<'_> {
    async fn chunk(&mut self) -> AppResult<Option<bytes::Bytes>> {
        self.0.chunk().await.map_err(|e| {
            AppError::field(
                "file",
                format!("ファイルを受け取れませんでした（{e}）"),
                format!("the file did not arrive whole ({e})"),
            )
        })
    }
}

/// Uploads one `file` part with `request`'s metadata; false when no file was chosen.
pub(crate) async fn upload_field(
    state: &AppState,
    web: &Web,
    item_type: ItemType,
    id: &str,
    request: &UploadRequest,
    field: Field<'_>,
) -> AppResult<bool> {
    let Some(name) = field.file_name().filter(|n| !n.is_empty()).map(str::to_string) else { return Ok(false) };
    let one = UploadRequest { name, media_type: field.content_type().map(str::to_string), ..request.clone() };
    ops::upload(&state.app, &web.caller, item_type, id, one, &mut FieldUpload(field)).await?;
    Ok(true)
}

fn unreadable(_: axum::extract::multipart::MultipartError) -> AppError {
    AppError::field("file", "フォームを読めません", "the form could not be read")
}

/// Uploads every later `file` part of `form`; answers how many.
pub(crate) async fn upload_rest(
    state: &AppState,
    web: &Web,
    item_type: ItemType,
    id: &str,
    request: &UploadRequest,
    form: &mut Multipart,
) -> AppResult<usize> {
    let mut done = 0;
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        if field.name() == Some("file") && upload_field(state, web, item_type, id, request, field).await? {
            done += 1;
        }
    }
    Ok(done)
}

fn expired() -> AppError {
    AppError::forbidden(
        "フォームの有効期限が切れています。ページを開き直してください",
        "the form has expired (CSRF check failed); open the page again",
    )
}

/// Reads the form's parts in order (token, kind, TLP, password, then each file) and uploads
/// each file as it arrives; answers how many were attached.
async fn receive(state: &AppState, web: &Web, item_type: ItemType, id: &str, mut form: Multipart) -> AppResult<usize> {
    let mut request = UploadRequest::default();
    let mut checked = false;
    let mut done = 0;
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        match field.name().unwrap_or_default() {
            "_csrf" => checked = crate::session::same_secret(&text(field, "_csrf").await?, &web.csrf),
            _ if !checked => return Err(expired()),
            "kind" => request.kind = FileKind::parse(&text(field, "kind").await?),
            "tlp" => request.tlp = Tlp::parse(&text(field, "tlp").await?),
            "password" => request.password = Some(text(field, "password").await?),
            "file" => {
                if upload_field(state, web, item_type, id, &request, field).await? {
                    done += 1;
                }
                done += upload_rest(state, web, item_type, id, &request, &mut form).await?;
            }
            _ => {}
        }
    }
    if done == 0 {
        return Err(AppError::field("file", "ファイルを選んでください", "choose at least one file"));
    }
    Ok(done)
}

/// The name of the field a form with files puts just before its file input: reading stops
/// there, so the report can be filed before its files stream in.
pub const FILES_FOLLOW: &str = "_files_kind";

/// The fields of a multipart form up to [`FILES_FOLLOW`], as a plain form.
pub(crate) async fn fields_before_files(form: &mut Multipart) -> AppResult<crate::form::FormData> {
    let mut fields = Vec::new();
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        let name = field.name().unwrap_or_default().to_string();
        let value = field.text().await.map_err(unreadable)?;
        let last = name == FILES_FOLLOW;
        fields.push((name, value));
        if last {
            break;
        }
    }
    Ok(crate::form::FormData(fields))
}

async fn upload(state: AppState, web: Web, item_type: ItemType, id: String, form: Multipart) -> WebResult {
    let path = item_path(item_type, &id);
    match receive(&state, &web, item_type, &id, form).await {
        Ok(n) => see_other(&format!("{path}?done=attached&files={n}")),
        Err(e) => refused(&web, e, html! {}, (path.clone(), web.t("戻る", "Back"))),
    }
}

/// A refused file: the refusal of the file itself (too large, a bad zip, the item closed) on
/// a page with a way back, after `before`; any other error is an error page.
fn refused(web: &Web, e: AppError, before: Markup, (back, label): (String, &str)) -> WebResult {
    if !matches!(e, AppError::Validation(_) | AppError::Conflict { .. }) {
        return Err(ApiError::from(e).into());
    }
    let notice = crate::layout::refusal(web.lang, e.into())?;
    let body = html! { (before) (notice) p { a href=(back) { (label) } } };
    let page = crate::layout::page(web, web.t("添付できなかったファイル", "A file was not attached"), body);
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, axum::response::Html(page.into_string())).into_response())
}

pub async fn upload_to_report(
    State(state): State<AppState>,
    web: Web,
    Path(id): Path<String>,
    form: Multipart,
) -> WebResult {
    upload(state, web, ItemType::Report, id, form).await
}

pub async fn upload_to_advisory(
    State(state): State<AppState>,
    web: Web,
    Path(id): Path<String>,
    form: Multipart,
) -> WebResult {
    upload(state, web, ItemType::Advisory, id, form).await
}

pub async fn upload_to_partner(
    State(state): State<AppState>,
    web: Web,
    Path(id): Path<String>,
    form: Multipart,
) -> WebResult {
    upload(state, web, ItemType::Partner, id, form).await
}

#[derive(Deserialize)]
pub struct DownloadQuery {
    #[serde(rename = "as")]
    how: Option<String>,
    password: Option<String>,
}

pub async fn download(
    State(state): State<AppState>,
    web: Web,
    Path(id): Path<String>,
    Query(q): Query<DownloadQuery>,
) -> WebResult {
    let how = match q.how.as_deref() {
        None | Some("") => DownloadAs::AesZip,
        Some(code) => DownloadAs::parse(code)
            .ok_or_else(|| ApiError::from(AppError::from(kyoyu_domain::FieldError::unknown_code("as", code))))?,
    };
    let d = ops::download(&state.app, &web.caller, &id, how, q.password).await.map_err(ApiError::from)?;
    Ok(kyoyu_api::attachments::download_response(d).into_response())
}

pub async fn grant(
    State(state): State<AppState>,
    web: Web,
    Path(id): Path<String>,
    form: crate::form::FormData,
) -> WebResult {
    web.check_csrf(&form)?;
    let request = GrantRequest {
        org_id: form.get("org_id").unwrap_or_default().to_string(),
        days: form.get("days").and_then(|d| d.trim().parse().ok()).unwrap_or(0),
    };
    ops::grant_sample_access(&state.app, &web.caller, &id, request).await.map_err(ApiError::from)?;
    // Back to the item page the form was on; nothing else (no open redirect).
    let back = form.get("back").filter(|b| {
        ["/reports/", "/advisories/", "/partner-information/"].iter().any(|p| b.starts_with(p))
            && b.chars().all(|c| c.is_ascii_alphanumeric() || "/-".contains(c))
    });
    see_other(&format!("{}?done=granted", back.unwrap_or("/")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_as_people_read_them() {
        assert_eq!(super::size(512), "512 B");
        assert_eq!(super::size(1536), "1.5 KiB");
        assert_eq!(super::size(50 << 20), "50.0 MiB");
    }
}
