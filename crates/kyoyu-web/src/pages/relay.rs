//! Relaying an advisory to many (004 図6): the policy's candidates grouped by kind and sector,
//! each group sorted by name, with "all CEPTOARs" and "all members" in one step, and a
//! confirmation of who receives it at which TLP before it goes.

use super::advisories::{after, fetch, tlp_options};
use super::confirm::{confirmation_with, confirmed};
use crate::call::{input, Names};
use crate::form::{FormData, FormState};
use crate::i18n::{Label, Lang};
use crate::layout::{csrf, ok, WebResult};
use crate::session::Web;
use crate::widgets::{choose, req};
use axum::extract::{Path, State};
use kyoyu_api::error::ApiError;
use kyoyu_api::AppState;
use kyoyu_app::advisories::{self as ops, RelayRequest};
use kyoyu_app::views::AdvisoryView;
use kyoyu_domain::codes::OrgKind;
use kyoyu_domain::Tlp;
use maud::{html, Markup};
use serde_json::json;

/// One group of relay candidates: a kind of organisation in one sector.
struct Group {
    kind: OrgKind,
    title: String,
    /// (organisation id, name), by name.
    members: Vec<(String, String)>,
}

impl Group {
    fn ids(self) -> Vec<String> {
        self.members.into_iter().map(|(id, _)| id).collect()
    }
}

/// The policy's relay targets (`actions.relay_to`), grouped: CEPTOARs first, then the
/// operators of each sector, then anyone else.
fn groups(lang: Lang, v: &AdvisoryView, names: &Names) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let mut orgs: Vec<_> = v.actions.relay_to.iter().filter_map(|id| names.org(id)).collect();
    let rank = |k: OrgKind| match k {
        OrgKind::Ceptoar => 0,
        OrgKind::Operator => 1,
        _ => 2,
    };
    let position = |sector: &Option<String>| {
        names.sectors().position(|(code, _)| Some(code) == sector.as_deref()).unwrap_or(usize::MAX)
    };
    orgs.sort_by_key(|o| (rank(o.kind), position(&o.sector), lang.t(&o.name_ja, &o.name_en).to_string()));
    for o in orgs {
        let sector = o.sector.as_deref().map(|s| names.sector(s, lang));
        let title = match (o.kind, sector) {
            (OrgKind::Ceptoar, _) => o.kind.label(lang),
            (_, Some(sector)) => format!("{}（{sector}）", o.kind.label(lang)),
            (_, None) => o.kind.label(lang),
        };
        let member = (o.id.clone(), lang.t(&o.name_ja, &o.name_en).to_string());
        match groups.last_mut() {
            Some(g) if g.title == title => g.members.push(member),
            _ => groups.push(Group { kind: o.kind, title, members: vec![member] }),
        }
    }
    groups
}

/// The TLP the caller received the advisory at: relays keep or tighten it.
fn received(web: &Web, v: &AdvisoryView) -> Tlp {
    v.deliveries.iter().find(|d| d.to_org_id == web.caller.org_id()).map(|d| d.tlp).unwrap_or(Tlp::Red)
}

pub fn relay_form(web: &Web, id: &str, v: &AdvisoryView, names: &Names) -> Markup {
    let groups = groups(web.lang, v, names);
    let received = received(web, v);
    let tlps: Vec<(String, String)> = tlp_options(web.lang)
        .into_iter()
        .filter(|(c, _)| Tlp::parse(c).is_some_and(|t| t.keeps_or_tightens(received)))
        .collect();
    let mut st = FormState::default();
    st.set("tlp", received.code());
    let count = |kind: OrgKind| groups.iter().filter(|g| g.kind == kind).map(|g| g.members.len()).sum::<usize>();
    let (ceptoars, members) = (count(OrgKind::Ceptoar), count(OrgKind::Operator));
    html! {
        @if !groups.is_empty() {
            h2 { (web.t("伝達（リレー）", "Relay")) }
            form.relay method="post" action={ "/advisories/" (id) "/relay" } {
                (csrf(web))
                @for (i, g) in groups.iter().enumerate() {
                    fieldset.choice {
                        legend { (g.title) " (" (g.members.len()) ")" }
                        @for (value, name) in &g.members {
                            label.inline { input type="checkbox" name="org_ids" value=(value); " " (name) }
                        }
                        @if g.members.len() > 1 {
                            // Without scripts: the whole group, named on the confirmation.
                            button.secondary.small type="submit" name="_group_index" value=(i) {
                                (web.t("このグループのすべてへ伝達…", "Relay to all of this group…"))
                            }
                        }
                    }
                }
                (choose(web.lang, &st, req("tlp", "情報共有範囲（維持または縮小のみ）", "Sharing scope (keep or tighten only)"), &tlps))
                div.actions {
                    button type="submit" { (web.t("選択した組織へ伝達…", "Relay to the chosen…")) }
                    @if ceptoars > 1 {
                        button.secondary type="submit" name="_group" value="ceptoar" {
                            (web.t("すべてのセプターへ伝達…", "Relay to every CEPTOAR…")) " (" (ceptoars) ")"
                        }
                    }
                    @if members > 1 {
                        button.secondary type="submit" name="_group" value="operator" {
                            (web.t("すべての構成員へ伝達…", "Relay to every member…")) " (" (members) ")"
                        }
                    }
                }
            }
        }
    }
}

/// Relays to the chosen organisations, or to a whole group, after a confirmation naming them.
pub async fn relay(State(state): State<AppState>, web: Web, Path(id): Path<String>, form: FormData) -> WebResult {
    web.check_csrf(&form)?;
    let v = fetch(&state, &web, &id).await?;
    let names = Names::load(&state).await?;
    let all = groups(web.lang, &v, &names);
    let one_group = form.get("_group_index").and_then(|i| i.parse::<usize>().ok());
    let targets = match (form.get("_group").and_then(OrgKind::parse), one_group) {
        (Some(kind), _) => all.into_iter().filter(|g| g.kind == kind).flat_map(Group::ids).collect(),
        (None, Some(i)) => all.into_iter().nth(i).map(Group::ids).unwrap_or_default(),
        (None, None) => form.all("org_ids").into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>(),
    };
    let tlp = form.get("tlp").filter(|t| !t.is_empty()).map(str::to_string);
    if confirmed(&form) || targets.is_empty() {
        let result = relay_with(&state, &web, &id, &targets, tlp.as_deref()).await;
        return after(&state, &web, &id, result, "relayed").await;
    }
    ok(confirm_page(&web, &id, &v, &names, &targets, tlp.as_deref()))
}

fn confirm_page(web: &Web, id: &str, v: &AdvisoryView, names: &Names, targets: &[String], tlp: Option<&str>) -> Markup {
    let lang = web.lang;
    let tlp = tlp.and_then(Tlp::parse).unwrap_or_else(|| received(web, v));
    let what = html! {
        p { (v.identifier.as_deref().unwrap_or("")) " — " (v.draft.content.summary.as_deref().unwrap_or("")) }
        table.official {
            tr { th { (lang.t("情報共有範囲", "Sharing scope")) } td { "TLP:" (tlp.code()) " " (crate::i18n::tlp_label(lang, tlp.code(), crate::i18n::advisory_tlp_en)) } }
            tr { th { (lang.t("伝達先", "Relay to")) " (" (targets.len()) ")" } td { ul {
                @for t in targets { li { (names.name(Some(t), lang)) } }
            } } }
        }
    };
    let mut carried: Vec<(String, String)> = targets.iter().map(|t| ("org_ids".to_string(), t.clone())).collect();
    carried.push(("tlp".into(), tlp.code().into()));
    let action = format!("/advisories/{id}/relay");
    let title = lang.t("伝達の確認", "Confirm the relay");
    confirmation_with(web, title, what, (&action, &carried), lang.t("伝達する", "Relay"), &format!("/advisories/{id}"))
}

async fn relay_with(
    state: &AppState,
    web: &Web,
    id: &str,
    targets: &[String],
    tlp: Option<&str>,
) -> Result<AdvisoryView, ApiError> {
    let request: RelayRequest = input(&json!({"org_ids": targets, "tlp": tlp}))?;
    Ok(ops::relay_advisory(&state.app, &web.caller, id, request).await?)
}
