//! Japanese first, English second: the user's language and the labels of the code lists.

use kyoyu_domain::codes::{
    AckStatus, AdvisoryStatus, Cause, DownloadAs, EventType, FileKind, ItemType, NotifyMode, OrgKind, Outlook,
    PartnerInfoKind, PressStatus, ReportStatus, Role, Route, Severity, SystemStatus, TriageState,
};
use kyoyu_domain::Tlp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Ja,
    En,
}

impl Lang {
    /// The list separator of the language: 「、」 or ", ".
    pub fn join(self, items: &[String]) -> String {
        items.join(self.t("、", ", "))
    }

    pub const COOKIE: &'static str = "kyoyu_lang";

    pub fn parse(code: &str) -> Option<Lang> {
        match code {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    pub fn other(self) -> Lang {
        match self {
            Lang::Ja => Lang::En,
            Lang::En => Lang::Ja,
        }
    }

    /// Picks the text in this language.
    pub fn t<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }
}

/// A code's label for a reader: the Japanese of the code list, or its English code made
/// readable (the code lists carry English as codes only).
pub trait Label: Copy {
    fn code_str(self) -> &'static str;
    fn ja(self) -> &'static str;

    fn label(self, lang: Lang) -> String {
        match lang {
            Lang::Ja => self.ja().to_string(),
            Lang::En => readable(self.code_str()),
        }
    }
}

fn readable(code: &str) -> String {
    // Acronyms the generic rule would spell as words.
    let acronym = [("cip_desk", "CIP desk"), ("dos", "DoS"), ("csirt", "CSIRT"), ("ceptoar", "CEPTOAR")];
    if let Some((_, shown)) = acronym.iter().find(|(c, _)| *c == code) {
        return shown.to_string();
    }
    let spaced = code.replace('_', " ");
    let mut chars = spaced.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

macro_rules! labels {
    ($($t:ty),+) => {
        $(impl Label for $t {
            fn code_str(self) -> &'static str { self.code() }
            fn ja(self) -> &'static str { self.label_ja() }
        })+
    };
}

labels!(
    AckStatus,
    DownloadAs,
    FileKind,
    AdvisoryStatus,
    NotifyMode,
    Cause,
    EventType,
    OrgKind,
    Outlook,
    PressStatus,
    ReportStatus,
    TriageState,
    Role,
    Route,
    Severity,
    SystemStatus,
    Tlp,
    PartnerInfoKind,
    ItemType
);

/// What each audit action records, in Japanese and English.
pub const AUDIT_ACTIONS: &[(&str, &str, &str)] = &[
    ("report.file", "報告の送信", "report filed"),
    ("report.forward", "報告の転送", "report forwarded"),
    ("report.preview", "転送内容の確認", "forward previewed"),
    ("report.number", "報告の採番", "report numbered"),
    ("report.share", "報告の共有", "report shared"),
    ("report.triage", "対応状況の更新", "triage updated"),
    ("report.disclosure_consent", "開示への同意", "disclosure consented"),
    ("report.publish", "報告の公開", "report published"),
    ("report.read", "報告の閲覧", "report read"),
    ("report.list", "報告一覧の閲覧", "report list read"),
    ("report.pdf", "報告の PDF 出力", "report PDF made"),
    ("advisory.create", "情報提供の作成", "advisory drafted"),
    ("advisory.update", "情報提供の編集", "advisory edited"),
    ("advisory.issue", "情報提供の発出", "advisory issued"),
    ("advisory.deliver", "情報提供の伝達", "advisory relayed"),
    ("advisory.acknowledge", "受領確認", "advisory acknowledged"),
    ("advisory.follow_up", "続報の作成", "advisory follow-up drafted"),
    ("advisory.question", "質問・回答", "question or answer"),
    ("advisory.questions.read", "質問の閲覧", "questions read"),
    ("advisory.read", "情報提供の閲覧", "advisory read"),
    ("advisory.list", "情報提供一覧の閲覧", "advisory list read"),
    ("report.share_to_council", "カウンシル経由の共有", "report shared through the council"),
    ("council.join", "カウンシルへの参加", "council joined"),
    ("council.leave", "カウンシルからの脱退", "council left"),
    ("partner.create", "関係機関からの情報の提供", "partner information sent"),
    ("partner.follow_up", "関係機関からの情報の続報", "partner information followed up"),
    ("partner.share", "関係機関からの情報の共有", "partner information shared"),
    ("partner.read", "関係機関からの情報の閲覧", "partner information read"),
    ("partner.list", "関係機関からの情報一覧の閲覧", "partner information list read"),
    ("scope_widening.request", "範囲拡大の依頼", "scope widening asked"),
    ("scope_widening.relay", "範囲拡大の依頼の伝達", "scope widening passed on"),
    ("scope_widening.answer", "範囲拡大への回答", "scope widening answered"),
    ("attachment.upload", "ファイルの添付", "file attached"),
    ("attachment.read", "ファイル情報の閲覧", "file metadata read"),
    ("attachment.download", "ファイルの取得", "file downloaded"),
    ("attachment.grant", "検体の分析協力機関への共有", "sample shared with an analysis partner"),
    ("attachment.rotate_key", "添付ファイルの鍵の更新", "file keys re-wrapped"),
    ("stix.read", "STIX の閲覧", "STIX read"),
    ("stix.add", "STIX の追加（TAXII）", "STIX added (TAXII)"),
    ("stix.import", "STIX の取り込み", "STIX imported"),
    ("stix.delete", "STIX の削除", "STIX deleted"),
    ("notifications.read", "通知を既読に", "notifications read"),
    ("notifications.digest", "ダイジェストの送信", "digest sent"),
    ("notifications.settings", "通知の受け取り方の設定", "notification settings"),
    ("mail.sent", "メール送信", "mail sent"),
    ("mail.failed", "メール送信失敗", "mail failed"),
    ("org.create", "組織の登録", "organisation created"),
    ("org.update", "組織の編集", "organisation edited"),
    ("user.create", "利用者の登録", "user created"),
    ("user.update", "利用者の編集", "user edited"),
    ("user.password_change", "パスワード変更", "password changed"),
    ("user.throttle", "ログイン失敗による待ち", "log-in delayed after failures"),
    ("user.unlock", "ログイン制限の解除", "log-in delay lifted"),
    ("user.totp_enrol", "確認コードの登録", "TOTP enrolled"),
    ("user.totp_remove", "確認コードの削除", "TOTP removed"),
    ("token.create", "トークンの発行", "token issued"),
    ("token.revoke", "トークンの失効", "token revoked"),
    ("session.end", "ログアウト", "logged out"),
    ("sector.put", "分野と所管の設定", "sector set"),
    ("service_level_rule.put", "サービス維持レベルの設定", "service-level rule set"),
    ("sector_dependencies.put", "分野間の依存の設定", "sector dependencies set"),
    ("reference.install", "参照情報の導入", "reference data installed"),
];

/// An audit action's label, or its code when it has none.
pub fn audit_action(lang: Lang, code: &str) -> String {
    AUDIT_ACTIONS.iter().find(|a| a.0 == code).map(|a| lang.t(a.1, a.2).to_string()).unwrap_or(code.to_string())
}

/// The label of a code given as JSON text, or the code itself when it is not one of `T`'s.
pub fn label_of<T: Label>(parse: fn(&str) -> Option<T>, code: &str, lang: Lang) -> String {
    parse(code).map(|c| c.label(lang)).unwrap_or_else(|| code.to_string())
}

/// A TLP's meaning for a reader: the handbook's Japanese label, or `meaning_en` (reports and
/// advisories differ in English; domain.md §7).
pub fn tlp_label(lang: Lang, code: &str, meaning_en: fn(Tlp) -> &'static str) -> String {
    match (Tlp::parse(code), lang) {
        (Some(t), Lang::Ja) => t.label_ja().to_string(),
        (Some(t), Lang::En) => meaning_en(t).to_string(),
        (None, _) => code.to_string(),
    }
}

/// What each TLP means for a report (domain.md §7), for English readers.
pub fn report_tlp_en(t: Tlp) -> &'static str {
    match t {
        Tlp::Red => "recipients only",
        Tlp::AmberStrict => "recipient organisations only, need to know",
        Tlp::Amber => "concerned sectors only, need to know",
        Tlp::Green => "critical-infrastructure community",
        Tlp::White | Tlp::Clear => "public",
    }
}

/// Who reads partner information at each TLP (kyoyu_policy::partner), in both languages.
pub fn partner_tlp(t: Tlp) -> (&'static str, &'static str) {
    match t {
        Tlp::Red | Tlp::AmberStrict => ("提供元と内閣官房だけ", "the sender and the coordinator only"),
        Tlp::Amber => (
            "提供元と内閣官房、内閣官房が共有する関係分野の組織と分析協力機関",
            "the sender, the coordinator, and the concerned sectors and analysis partners it shares with",
        ),
        Tlp::Green => (
            "提供元と内閣官房、内閣官房が共有する重要インフラの関係者",
            "the sender, the coordinator, and the community it shares with",
        ),
        Tlp::White | Tlp::Clear => ("制限なし", "public"),
    }
}

/// What each TLP means for an advisory (domain.md §7, 図7), for English readers.
pub fn advisory_tlp_en(t: Tlp) -> &'static str {
    match t {
        Tlp::Red => "recipient ministries only",
        Tlp::AmberStrict => "recipient organisations only",
        Tlp::Amber => "recipient ministries and sectors' CEPTOARs, need to know",
        Tlp::Green => "all ministries and CEPTOARs",
        Tlp::White | Tlp::Clear => "public",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_in_both_languages() {
        assert_eq!(EventType::NearMiss.label(Lang::Ja), "予兆・ヒヤリハット");
        assert_eq!(EventType::NearMiss.label(Lang::En), "Near miss");
        assert_eq!(label_of(Cause::parse, "dos", Lang::Ja), "DoS攻撃等の大量アクセス");
        assert_eq!(label_of(Cause::parse, "nope", Lang::En), "nope");
    }
}
