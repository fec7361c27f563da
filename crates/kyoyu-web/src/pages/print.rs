//! Printable forms (A4 print CSS) and their PDFs, rendered by headless Chromium from Debian's
//! package: no PDF crate lays out Japanese forms with system fonts as faithfully, and the
//! browser already renders the same HTML the user prints.

use crate::i18n::Lang;
use crate::layout::{WebError, WebResult};
use crate::session::Web;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse};
use kyoyu_api::error::ApiError;
use kyoyu_api::AppState;
use maud::{html, Markup, PreEscaped, DOCTYPE};
use std::time::Duration;

/// The browser binary: `KYOYU_CHROMIUM`, else Debian's `chromium`.
fn chromium() -> String {
    std::env::var("KYOYU_CHROMIUM").unwrap_or_else(|_| "chromium".into())
}

/// What every page of a PDF carries in its margins: the TLP and the identifier at the top,
/// "n / N" at the foot.
pub struct Running<'a> {
    pub tlp: &'a str,
    pub identifier: Option<&'a str>,
}

impl Running<'_> {
    /// The page margin boxes (CSS Paged Media, which Chromium lays out since version 131).
    fn css(&self, lang: Lang) -> String {
        let identifier = self.identifier.unwrap_or(lang.t("（未採番）", "(unnumbered)"));
        format!(
            "@page {{ @top-left {{ content: \"TLP:{}\"; font: bold 10pt sans-serif; }} \
             @top-right {{ content: \"{}\"; font: 10pt sans-serif; }} \
             @bottom-center {{ content: counter(page) \" / \" counter(pages); font: 9pt sans-serif; }} }}",
            css_string(self.tlp),
            css_string(identifier)
        )
    }
}

/// Text safe inside a CSS string literal.
fn css_string(s: &str) -> String {
    s.chars().filter(|c| !matches!(c, '"' | '\\' | '\n' | '\r' | '<' | '>')).collect()
}

/// A standalone A4 document. For the PDF the styles are inline, so it renders from a file
/// with no server, and every page carries `running` in its margins; in the browser the styles
/// are linked (the pages' CSP allows no inline style).
pub fn document(lang: Lang, title: &str, content: Markup, running: Option<Running>) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                title { (title) }
                @if let Some(running) = running {
                    style { (PreEscaped(include_str!("../../static/style.css"))) (PreEscaped(running.css(lang))) }
                } @else {
                    link rel="stylesheet" href="/static/style.css";
                }
            }
            body.print { main { (content) } }
        }
    }
}

fn print_page(lang: Lang, title: &str, content: Markup) -> WebResult {
    let doc = document(
        lang,
        title,
        html! {
            p.no-print { (lang.t("ブラウザの印刷機能で A4 に印刷できます。", "Use the browser's print command to print on A4.")) }
            (content)
        },
        None,
    );
    Ok(Html(doc.into_string()).into_response())
}

/// At most this many browsers render at once: each takes a few hundred MB for a second or so.
const CONCURRENT_RENDERS: usize = 2;
static RENDERS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(CONCURRENT_RENDERS);

/// Renders a document to PDF with headless Chromium.
pub async fn pdf(doc: Markup) -> Result<Vec<u8>, ApiError> {
    let _turn = RENDERS.acquire().await.map_err(|e| ApiError::internal("PDF render queue", e))?;
    let dir = tempfile::tempdir().map_err(|e| ApiError::internal("PDF work directory", e))?;
    let html_path = dir.path().join("form.html");
    let pdf_path = dir.path().join("form.pdf");
    tokio::fs::write(&html_path, doc.into_string()).await.map_err(|e| ApiError::internal("PDF source", e))?;
    let mut cmd = tokio::process::Command::new(chromium());
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-pdf-header-footer",
        "--run-all-compositor-stages-before-draw",
    ])
    .arg(format!("--user-data-dir={}", dir.path().join("profile").display()))
    .arg(format!("--print-to-pdf={}", pdf_path.display()))
    .arg(format!("file://{}", html_path.display()))
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::null())
    .kill_on_drop(true);
    let status = tokio::time::timeout(Duration::from_secs(60), cmd.status()).await;
    match status {
        Ok(Ok(s)) if s.success() => tokio::fs::read(&pdf_path).await.map_err(|e| ApiError::internal("rendered PDF", e)),
        Ok(Ok(s)) => Err(ApiError::internal("PDF render", format!("chromium exited with {s}"))),
        Ok(Err(e)) => Err(ApiError::internal(
            &format!("cannot run {} (install Debian's chromium or set KYOYU_CHROMIUM)", chromium()),
            e,
        )),
        Err(_) => Err(ApiError::internal("chromium", "did not finish within 60 s")),
    }
}

fn pdf_response(bytes: Vec<u8>, name: &str) -> WebResult {
    let disposition = format!("attachment; filename=\"{name}.pdf\"");
    Ok(([("content-type", "application/pdf".to_string()), ("content-disposition", disposition)], bytes).into_response())
}

fn file_name(kind: &str, identifier: Option<&str>, id: &str) -> String {
    let label = identifier.unwrap_or(id);
    format!("{kind}-{}", label.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect::<String>())
}

pub async fn report_print(State(state): State<AppState>, web: Web, Path(id): Path<String>) -> WebResult {
    let v = super::reports::fetch(&state, &web, &id).await?;
    let content = super::reports::printable(&state, &web, &v).await?;
    print_page(web.lang, web.t("情報連絡様式", "Report form"), content)
}

pub async fn report_pdf(State(state): State<AppState>, web: Web, Path(id): Path<String>) -> WebResult {
    let v = super::reports::fetch(&state, &web, &id).await?;
    let content = super::reports::printable(&state, &web, &v).await?;
    let running = Running { tlp: v.content.tlp.code(), identifier: v.identifier.as_deref() };
    let doc = document(web.lang, web.t("情報連絡様式", "Report form"), content, Some(running));
    let bytes = pdf(doc).await.map_err(WebError)?;
    pdf_response(bytes, &file_name("report", v.identifier.as_deref(), &id))
}

pub async fn advisory_print(State(state): State<AppState>, web: Web, Path(id): Path<String>) -> WebResult {
    let v = super::advisories::fetch(&state, &web, &id).await?;
    let content = super::advisories::printable(&state, &web, &v).await?;
    print_page(web.lang, web.t("情報提供様式", "Advisory form"), content)
}

pub async fn advisory_pdf(State(state): State<AppState>, web: Web, Path(id): Path<String>) -> WebResult {
    let v = super::advisories::fetch(&state, &web, &id).await?;
    let content = super::advisories::printable(&state, &web, &v).await?;
    let running = Running { tlp: v.draft.tlp.code(), identifier: v.identifier.as_deref() };
    let doc = document(web.lang, web.t("情報提供様式", "Advisory form"), content, Some(running));
    let bytes = pdf(doc).await.map_err(WebError)?;
    pdf_response(bytes, &file_name("advisory", v.identifier.as_deref(), &id))
}
