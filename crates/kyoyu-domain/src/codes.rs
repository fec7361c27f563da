//! The code lists of domain.md, each with its Japanese label. JSON uses the English codes.

use serde::{Deserialize, Serialize};

/// Declares a code list: the enum, its serde codes, `ALL`, `code()`, `parse()` and `label_ja()`.
macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:tt / $ja:tt,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        pub enum $name {
            $(#[serde(rename = $code)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code,)+ }
            }

            pub fn parse(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }

            pub fn label_ja(self) -> &'static str {
                match self { $($name::$variant => $ja,)+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

code_enum!(
    /// Kinds of organisation (domain.md §2).
    OrgKind {
        Coordinator = "coordinator" / "内閣サイバーセキュリティセンター",
        CrisisOffice = "crisis_office" / "内閣官房（事態対処・危機管理担当）",
        Ministry = "ministry" / "重要インフラ所管省庁",
        Ceptoar = "ceptoar" / "セプター",
        CeptoarCouncil = "ceptoar_council" / "セプターカウンシル",
        Operator = "operator" / "重要インフラ事業者等",
        CyberMinistry = "cyber_ministry" / "サイバーセキュリティ関係省庁",
        ResponseAgency = "response_agency" / "事案対処省庁",
        DisasterAgency = "disaster_agency" / "防災関係府省庁",
        SecurityInstitution = "security_institution" / "サイバーセキュリティ関係機関",
        CyberspaceVendor = "cyberspace_vendor" / "サイバー空間関連事業者",
        Operations = "operations" / "システム運用",
    }
);

impl OrgKind {
    /// Kinds that belong to one sector.
    pub fn has_sector(self) -> bool {
        matches!(self, OrgKind::Operator | OrgKind::Ceptoar)
    }
}

code_enum!(
    /// Roles a user holds inside their organisation ([product] domain.md §2).
    Role {
        Admin = "admin" / "管理者",
        SystemAdmin = "system_admin" / "システム管理者",
        Liaison = "liaison" / "リエゾン",
        Secretariat = "secretariat" / "セプター事務局・窓口",
        CipDesk = "cip_desk" / "重要インフラ防護担当",
        Member = "member" / "一般メンバー",
    }
);

code_enum!(
    /// Reporting routes (domain.md §6).
    Route {
        Direct = "direct" / "直接連絡",
        Anonymised = "anonymised" / "匿名化連絡（セプター経由）",
        Urgent = "urgent" / "緊急連絡",
    }
);

code_enum!(
    Severity {
        Alert = "alert" / "警報",
        Warning = "warning" / "注意喚起",
        Info = "info" / "参考情報",
    }
);

code_enum!(
    /// The first event detected (domain.md §5).
    EventType {
        NearMiss = "near_miss" / "予兆・ヒヤリハット",
        DataLeak = "data_leak" / "情報の漏えい",
        DataDestruction = "data_destruction" / "情報の破壊",
        ServiceUnavailable = "service_unavailable" / "システム等の利用困難",
        MalwareInfection = "malware_infection" / "マルウェア等の感染",
        MaliciousCodeExecution = "malicious_code_execution" / "不正コード等の実行",
        Intrusion = "intrusion" / "システム等への侵入",
        Other = "other" / "その他",
    }
);

code_enum!(
    /// Causes, any number (domain.md §5).
    Cause {
        SuspiciousEmail = "suspicious_email" / "不審メール等の受信",
        CredentialSpoofing = "credential_spoofing" / "ユーザID等の偽り",
        Dos = "dos" / "DoS攻撃等の大量アクセス",
        InformationTheft = "information_theft" / "情報の不正取得",
        Insider = "insider" / "内部不正",
        ImproperOperation = "improper_operation" / "適切なシステム等運用の未実施",
        OperatorError = "operator_error" / "ユーザの操作ミス",
        ManagementError = "management_error" / "ユーザの管理ミス",
        SuspiciousFile = "suspicious_file" / "不審なファイルの実行",
        SuspiciousSite = "suspicious_site" / "不審なサイトの閲覧",
        ContractorError = "contractor_error" / "外部委託先の管理ミス",
        EquipmentFailure = "equipment_failure" / "機器等の故障",
        Vulnerability = "vulnerability" / "システムの脆弱性",
        CrossSectorSpillover = "cross_sector_spillover" / "他分野の障害からの波及",
        DisasterOrDisease = "disaster_or_disease" / "災害や疾病等",
        Other = "other" / "その他",
        Unknown = "unknown" / "不明",
    }
);

code_enum!(
    SystemStatus {
        Unaffected = "unaffected" / "影響なし",
        Stopped = "stopped" / "停止中",
        Partial = "partial" / "一部稼働中",
        Recovered = "recovered" / "復旧済",
    }
);

code_enum!(
    Outlook {
        Ongoing = "ongoing" / "事象継続中",
        Investigating = "investigating" / "事後調査実施中",
        Closed = "closed" / "対応完了",
        MeasuresUnderReview = "measures_under_review" / "今後の対応策を継続検討",
    }
);

code_enum!(
    PressStatus {
        Done = "done" / "公表済",
        Planned = "planned" / "公表予定",
        None = "none" / "公表なし",
    }
);

code_enum!(
    /// Where a rendition stands in its chain.
    ReportStatus {
        Sent = "sent" / "送付済",
        Forwarded = "forwarded" / "転送済",
    }
);

code_enum!(
    /// Where a received rendition stands with its receiving organisation (its triage).
    TriageState {
        Open = "open" / "未対応",
        InProgress = "in_progress" / "対応中",
        Done = "done" / "完了",
    }
);

code_enum!(
    /// Where an advisory stands: a draft the coordinator edits, or issued to its recipients.
    AdvisoryStatus {
        Draft = "draft" / "下書き",
        Issued = "issued" / "発出済",
    }
);

code_enum!(
    /// Where a request to widen an advisory beyond a source report's scope stands: with the
    /// anonymous route's secretariat, with the operator, or answered.
    WideningStatus {
        AtSecretariat = "at_secretariat" / "セプター事務局で確認中",
        Pending = "pending" / "事業者の回答待ち",
        Granted = "granted" / "同意",
        Refused = "refused" / "不同意",
    }
);

impl WideningStatus {
    /// Still waiting for someone's answer.
    pub fn is_open(self) -> bool {
        matches!(self, WideningStatus::AtSecretariat | WideningStatus::Pending)
    }
}

code_enum!(
    /// How a user is told by mail: every notification at once, or only in the digest.
    NotifyMode {
        Immediate = "immediate" / "その都度メールで通知",
        Digest = "digest" / "ダイジェストにまとめて通知",
    }
);

code_enum!(
    /// How a receiving organisation acknowledges an advisory.
    AckStatus {
        Received = "received" / "受領",
        Acted = "acted" / "対応済",
        NotApplicable = "not_applicable" / "該当なし",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_parses_back() {
        for k in OrgKind::ALL {
            assert_eq!(OrgKind::parse(k.code()), Some(*k));
        }
        for c in Cause::ALL {
            assert_eq!(Cause::parse(c.code()), Some(*c));
        }
        assert_eq!(Cause::ALL.len(), 17);
        assert_eq!(EventType::ALL.len(), 8);
        assert_eq!(OrgKind::parse("nope"), None);
    }
}

code_enum!(
    /// What a file on an item is (004 2.3(3)): a document or notice, or a sample that may be
    /// malicious and is never handed out as it is.
    FileKind {
        Attachment = "attachment" / "添付資料",
        Sample = "sample" / "検体",
    }
);

code_enum!(
    /// The items files travel with.
    ItemType {
        Report = "report" / "報告",
        Advisory = "advisory" / "情報提供",
        Partner = "partner" / "関係機関からの情報",
    }
);

code_enum!(
    /// How a file is downloaded. Samples only ever leave inside a password zip, or as the
    /// password zip they arrived in.
    DownloadAs {
        Raw = "raw" / "そのまま",
        AesZip = "aes-zip" / "AES-256 暗号化 ZIP",
        ZipcryptoZip = "zipcrypto-zip" / "ZipCrypto 暗号化 ZIP（旧方式）",
        Original = "original" / "受け取ったパスワード付き ZIP のまま",
    }
);

code_enum!(
    /// What partner information is about (004 3.1).
    PartnerInfoKind {
        Vulnerability = "vulnerability" / "脆弱性情報",
        Attack = "attack" / "攻撃情報",
        AttackAnnouncement = "attack_announcement" / "攻撃予告",
        DisasterForecast = "disaster_forecast" / "災害の予報・警報",
        ThreatIntelligence = "threat_intelligence" / "脅威情報",
        Other = "other" / "その他",
    }
);
