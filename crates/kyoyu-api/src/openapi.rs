//! The API contract, generated: every route of the JSON API is declared here with the
//! handler's `#[utoipa::path]`, so what is routed and what is documented are one list. The
//! schemas come from the request and view types.

use crate::error::ErrorBody;
use crate::{admin, advisories, attachments, council, notifications, partner, reports, stix, AppState};
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi, PartialSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "kyoyu（共有）API",
        description = "Critical-infrastructure cybersecurity information sharing on Japan's national model. \
Every item carries a TLP scope that decides who may read it; anything a caller may not read answers 404, \
exactly as if it did not exist. Errors name the field and the reason in Japanese and English. Request \
bodies are limited to 1 MiB (1,048,576 bytes).\n重要インフラの情報共有。TLP が閲覧範囲を決めます。",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    security(("bearer" = [])),
    modifiers(&Security),
    tags(
        (name = "session", description = "Log-in and who the caller is / ログイン"),
        (name = "reports", description = "The reporting chain / 報告"),
        (name = "advisories", description = "Advisories down the chain / 情報提供"),
        (name = "widenings", description = "Asking an originator to widen a scope / 範囲拡大"),
        (name = "partner-information", description = "Information partners send the coordinator / 関係機関からの情報"),
        (name = "council", description = "The CEPTOAR council: membership and shares through it / セプターカウンシル"),
        (name = "attachments", description = "Files and samples on reports, advisories and partner information / 添付ファイル・検体"),
        (name = "notifications", description = "Notifications and mail / 通知"),
        (name = "stix", description = "STIX 2.1 in and out / STIX"),
        (name = "reference", description = "The directory and reference data / 参照情報"),
        (name = "administration", description = "Organisations, users, tokens, audit / 管理"),
        (name = "contract", description = "This document / この文書"),
    )
)]
struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, doc: &mut Document) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some("Authorization: Bearer <token>"))
            .build();
        doc.components.get_or_insert_with(Default::default).add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The errors every operation of a kind may answer, added here once rather than on each
/// handler: 401 where a token is needed, 404 where the path names an item, 400/413/415/422
/// where there is a body, 422 where there are query parameters, 503 on writes when the
/// database is busy. Handlers list their own 403, 409, 422 (without a body) and 429.
struct CommonErrors;

impl CommonErrors {
    fn add(op: &mut Operation, has_path_item: bool, write: bool) {
        let public = op.security.as_ref().is_some_and(|s| s.iter().all(|r| r == &Default::default()));
        let has_body = op.request_body.is_some();
        let has_query =
            op.parameters.iter().flatten().any(|p| p.parameter_in == utoipa::openapi::path::ParameterIn::Query);
        let wanted = [
            (400, has_body, "the body is not JSON / JSON として読めません"),
            (401, !public, "unknown, revoked or expired token / 認証エラー"),
            (404, has_path_item, "no such item, or one the caller may not read / 見つかりません"),
            (413, has_body, "the body is over 1 MiB / 大きすぎます"),
            (415, has_body, "Content-Type is not application/json / 形式が違います"),
            (422, has_body || has_query, "a field is missing or invalid; each error names it / 入力誤り"),
            (503, write, "the database is busy; try again / 混雑"),
        ];
        for (status, applies, description) in wanted {
            if applies {
                op.responses.responses.entry(status.to_string()).or_insert_with(|| error_response(description));
            }
        }
    }
}

fn error_response(description: &str) -> RefOr<Response> {
    let content = utoipa::openapi::ContentBuilder::new().schema(Some(ErrorBody::schema())).build();
    RefOr::T(ResponseBuilder::new().description(description).content("application/json", content).build())
}

/// The operations of a path, each with whether it writes.
fn operations_mut(item: &mut utoipa::openapi::PathItem) -> impl Iterator<Item = (&mut Operation, bool)> {
    [
        (&mut item.get, false),
        (&mut item.post, true),
        (&mut item.put, true),
        (&mut item.patch, true),
        (&mut item.delete, true),
    ]
    .into_iter()
    .filter_map(|(op, write)| op.as_mut().map(|op| (op, write)))
}

impl Modify for CommonErrors {
    fn modify(&self, doc: &mut Document) {
        for (path, item) in doc.paths.paths.iter_mut() {
            let has_path_item = path.contains('{');
            for (op, write) in operations_mut(item) {
                CommonErrors::add(op, has_path_item, write);
            }
        }
    }
}

/// Where an answer's `id` leads: from each operation that makes an item to every operation on
/// that item, so clients (and schemathesis's stateful phase) can follow the chain.
struct Links;

const ITEM_MAKERS: &[(&str, &str)] = &[
    ("createReport", "/api/v1/reports/{id}"),
    ("createFollowUp", "/api/v1/reports/{id}"),
    ("forwardReport", "/api/v1/reports/{id}"),
    ("createAdvisory", "/api/v1/advisories/{id}"),
    ("createAdvisoryFollowUp", "/api/v1/advisories/{id}"),
    ("requestScopeWidening", "/api/v1/scope-widenings/{id}"),
    ("createPartnerInformation", "/api/v1/partner-information/{id}"),
    ("createPartnerFollowUp", "/api/v1/partner-information/{id}"),
    ("createOrg", "/api/v1/admin/orgs/{id}"),
    ("createUser", "/api/v1/admin/users/{id}"),
];

impl Modify for Links {
    fn modify(&self, doc: &mut Document) {
        let mut targets: Vec<(String, String)> = Vec::new();
        for (path, item) in doc.paths.paths.iter_mut() {
            for (op, _) in operations_mut(item) {
                if let Some(id) = &op.operation_id {
                    targets.push((path.clone(), id.clone()));
                }
            }
        }
        for item in doc.paths.paths.values_mut() {
            for (op, _) in operations_mut(item) {
                let Some(prefix) =
                    ITEM_MAKERS.iter().find(|(id, _)| op.operation_id.as_deref() == Some(id)).map(|m| m.1)
                else {
                    continue;
                };
                let Some(RefOr::T(created)) = op.responses.responses.values_mut().next() else { continue };
                for (path, target) in targets.iter().filter(|(path, _)| path.starts_with(prefix)) {
                    let link = utoipa::openapi::link::LinkBuilder::new()
                        .operation_id(target)
                        .parameter("id", "$response.body#/id")
                        .description(format!("{target} on {path}"))
                        .build();
                    created.links.insert(target.clone(), RefOr::T(link));
                }
            }
        }
    }
}

/// The JSON API's routes, each with its place in the contract.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(admin::create_session))
        .routes(routes!(admin::change_password))
        .routes(routes!(admin::get_me))
        .routes(routes!(reports::list_published))
        .routes(routes!(reports::create_report, reports::list_reports))
        .routes(routes!(reports::count_reports))
        .routes(routes!(reports::get_statistics))
        .routes(routes!(reports::get_report))
        .routes(routes!(reports::forward_report))
        .routes(routes!(reports::preview_forward))
        .routes(routes!(reports::create_follow_up))
        .routes(routes!(reports::share_report))
        .routes(routes!(council::get_council))
        .routes(routes!(council::join_council))
        .routes(routes!(council::leave_council))
        .routes(routes!(council::share_to_council))
        .routes(routes!(reports::record_disclosure_consent))
        .routes(routes!(reports::publish_report))
        .routes(routes!(reports::set_report_triage))
        .routes(routes!(notifications::suggest_recipients))
        .routes(routes!(stix::report_bundle))
        .routes(routes!(stix::report_correlations))
        .routes(routes!(stix::advisory_bundle))
        .routes(routes!(stix::import_bundle))
        .routes(routes!(partner::create_partner_information, partner::list_partner_information))
        .routes(routes!(partner::count_partner_information))
        .routes(routes!(partner::get_partner_information))
        .routes(routes!(partner::create_partner_follow_up))
        .routes(routes!(partner::share_partner_information))
        .routes(routes!(advisories::create_advisory, advisories::list_advisories))
        .routes(routes!(advisories::count_advisories))
        .routes(routes!(advisories::get_advisory, advisories::update_advisory))
        .routes(routes!(advisories::issue_advisory))
        .routes(routes!(advisories::relay_advisory))
        .routes(routes!(advisories::acknowledge_advisory))
        .routes(routes!(advisories::create_follow_up))
        .routes(routes!(advisories::ask_question, advisories::list_questions))
        .routes(routes!(advisories::request_scope_widening))
        .routes(routes!(advisories::list_scope_widenings))
        .routes(routes!(advisories::relay_scope_widening))
        .routes(routes!(advisories::answer_scope_widening))
        .routes(routes!(notifications::list_notifications))
        .routes(routes!(notifications::count_notifications))
        .routes(routes!(notifications::mark_all_read))
        .routes(routes!(notifications::get_notification_settings, notifications::set_notification_settings))
        .routes(routes!(notifications::list_outbox))
        .routes(routes!(notifications::send_digests))
        .routes(routes!(admin::list_orgs))
        .routes(routes!(admin::list_sectors))
        .routes(routes!(admin::list_service_level_rules))
        .routes(routes!(admin::list_dependencies))
        .routes(routes!(admin::create_org))
        .routes(routes!(admin::update_org))
        .routes(routes!(admin::list_users, admin::create_user))
        .routes(routes!(admin::update_user))
        .routes(routes!(admin::unlock_user))
        .routes(routes!(admin::list_tokens, admin::create_token))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(admin::put_sector))
        .routes(routes!(admin::put_service_level_rule))
        .routes(routes!(admin::put_dependencies))
        .routes(routes!(admin::list_audit))
        .routes(routes!(attachments::list_attachments))
        .routes(routes!(attachments::get_attachment))
        .routes(routes!(attachments::download_attachment))
        .routes(routes!(attachments::grant_sample_access))
        .merge(uploads())
        .routes(routes!(get_openapi))
}

/// Uploads stream past the JSON body limit; the files' own limits apply as they arrive.
fn uploads() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(attachments::upload_report_attachment))
        .routes(routes!(attachments::upload_advisory_attachment))
        .routes(routes!(attachments::upload_partner_attachment))
        .layer(axum::extract::DefaultBodyLimit::disable())
}

/// The contract as served: generated once, from the router.
pub fn document() -> &'static Document {
    static DOCUMENT: std::sync::OnceLock<Document> = std::sync::OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut doc = router().into_openapi();
        // After the routes are in: the document's own modifiers run before any path exists.
        CommonErrors.modify(&mut doc);
        Links.modify(&mut doc);
        doc
    })
}

/// The document as pretty JSON, as committed in `crates/kyoyu-api/openapi.json`.
pub fn document_json() -> String {
    static JSON: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    JSON.get_or_init(|| camel_case_links(&document().to_pretty_json().unwrap_or_default()) + "\n").clone()
}

/// utoipa 5 writes a link's `operationId` in snake case, which OpenAPI tools do not read.
/// Renamed in the text, to keep the document's order: only a link has `"operation_id"` with a
/// string value (a schema property of that name would have an object).
fn camel_case_links(json: &str) -> String {
    json.replace("\"operation_id\": \"", "\"operationId\": \"")
}

#[utoipa::path(
    get,
    path = "/api/openapi.json",
    operation_id = "getOpenApi",
    tag = "contract",
    summary = "This document / この文書",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json", body = Object)),
    security(()),
)]
async fn get_openapi() -> impl axum::response::IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "application/json")], document_json())
}
