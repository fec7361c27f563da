//! Default reference data from the source documents (000 別紙1, 別紙2; domain.md §3, §4, §10).
//! Installed on first start; an administrator edits it afterwards.

/// A sector: code, Japanese name, English name, default ministry key.
pub struct SectorDefault {
    pub code: &'static str,
    pub name_ja: &'static str,
    pub name_en: &'static str,
    pub ministry: &'static str,
}

pub const SECTORS: [SectorDefault; 15] = [
    SectorDefault {
        code: "telecom", name_ja: "情報通信", name_en: "Information and communication", ministry: "mic"
    },
    SectorDefault { code: "finance", name_ja: "金融", name_en: "Finance", ministry: "fsa" },
    SectorDefault { code: "aviation", name_ja: "航空", name_en: "Aviation", ministry: "mlit" },
    SectorDefault { code: "airport", name_ja: "空港", name_en: "Airports", ministry: "mlit" },
    SectorDefault { code: "railway", name_ja: "鉄道", name_en: "Railway", ministry: "mlit" },
    SectorDefault { code: "electricity", name_ja: "電力", name_en: "Electricity", ministry: "meti" },
    SectorDefault { code: "gas", name_ja: "ガス", name_en: "Gas", ministry: "meti" },
    SectorDefault {
        code: "government",
        name_ja: "政府・行政サービス",
        name_en: "Government and administrative services",
        ministry: "mic",
    },
    SectorDefault { code: "medical", name_ja: "医療", name_en: "Medical", ministry: "mhlw" },
    SectorDefault { code: "water", name_ja: "水道", name_en: "Water", ministry: "mhlw" },
    SectorDefault { code: "logistics", name_ja: "物流", name_en: "Logistics", ministry: "mlit" },
    SectorDefault { code: "chemical", name_ja: "化学", name_en: "Chemical", ministry: "meti" },
    SectorDefault { code: "credit", name_ja: "クレジット", name_en: "Credit", ministry: "meti" },
    SectorDefault { code: "petroleum", name_ja: "石油", name_en: "Petroleum", ministry: "meti" },
    SectorDefault { code: "port", name_ja: "港湾", name_en: "Ports", ministry: "mlit" },
];

/// The five ministries with jurisdiction over sectors: key, Japanese name, English name.
pub const MINISTRIES: [(&str, &str, &str); 5] = [
    ("fsa", "金融庁", "Financial Services Agency"),
    ("mic", "総務省", "Ministry of Internal Affairs and Communications"),
    ("mhlw", "厚生労働省", "Ministry of Health, Labour and Welfare"),
    ("meti", "経済産業省", "Ministry of Economy, Trade and Industry"),
    ("mlit", "国土交通省", "Ministry of Land, Infrastructure, Transport and Tourism"),
];

/// A service-maintenance-level rule (000 別紙2) with the statute under which it is reported.
/// Threshold fields left `None` do not apply; a rule with none of them set means "any
/// disruption of the critical service caused by a system fault" (別紙2 注2).
pub struct ServiceLevelDefault {
    pub sector: &'static str,
    pub service: &'static str,
    pub condition_ja: &'static str,
    pub condition_en: &'static str,
    pub statute: &'static str,
    pub min_users: Option<i64>,
    pub min_duration_minutes: Option<i64>,
    pub min_interrupted_kw: Option<i64>,
    pub min_households: Option<i64>,
}

const fn any_disruption(sector: &'static str, service: &'static str, statute: &'static str) -> ServiceLevelDefault {
    ServiceLevelDefault {
        sector,
        service,
        condition_ja: "システムの不具合による重要インフラサービス障害が生じたとき（別紙2 注2）",
        condition_en: "any disruption of the critical service caused by a system fault (Annex 2 note 2)",
        statute,
        min_users: None,
        min_duration_minutes: None,
        min_interrupted_kw: None,
        min_households: None,
    }
}

pub const SERVICE_LEVELS: [ServiceLevelDefault; 17] = [
    ServiceLevelDefault {
        sector: "telecom",
        service: "電気通信役務",
        condition_ja: "電気通信設備の故障により、役務提供の停止・品質の低下が、3万以上の利用者に対し2時間以上継続",
        condition_en: "service stopped or degraded for >= 30,000 users lasting >= 2 h",
        statute: "電気通信事業法（業務停止等の報告）第28条、電気通信事業法施行規則（報告を要する重大な事故）第58条",
        min_users: Some(30_000),
        min_duration_minutes: Some(120),
        min_interrupted_kw: None,
        min_households: None,
    },
    ServiceLevelDefault {
        sector: "telecom",
        service: "放送",
        condition_ja: "基幹放送設備の故障により、放送の停止が15分以上（中継局の無線設備にあっては2時間以上）継続",
        condition_en: "broadcast stopped >= 15 min (relay-station radio equipment: >= 2 h)",
        statute: "放送法（重大事故の報告）第113条、第122条、放送法施行規則（報告を要する重大な事故）第125条",
        min_users: None,
        min_duration_minutes: Some(15),
        min_interrupted_kw: None,
        min_households: None,
    },
    ServiceLevelDefault {
        sector: "telecom",
        service: "ケーブルテレビ",
        condition_ja: "放送の停止を受けた利用者の数が3万以上、かつ、停止時間が2時間以上",
        condition_en: ">= 30,000 users' broadcast stopped and the stop lasted >= 2 h",
        statute: "放送法（重大事故の報告）第137条、放送法施行規則（報告を要する重大な事故）第157条",
        min_users: Some(30_000),
        min_duration_minutes: Some(120),
        min_interrupted_kw: None,
        min_households: None,
    },
    any_disruption(
        "finance",
        "預金・貸付・為替・資金清算・保険金等の支払・有価証券の売買等",
        "各業態向けの総合的な監督指針",
    ),
    any_disruption(
        "aviation",
        "旅客、貨物の航空輸送サービス",
        "航空分野における情報セキュリティ確保に係る安全ガイドライン",
    ),
    any_disruption(
        "airport",
        "空港におけるセキュリティの確保・利便性の向上",
        "空港分野における情報セキュリティ確保に係る安全ガイドライン",
    ),
    any_disruption(
        "railway",
        "旅客輸送サービス、発券、入出場手続",
        "鉄道事業法（事故等の報告）第19条、第19条の2、鉄道事故等報告規則第5条",
    ),
    ServiceLevelDefault {
        sector: "electricity",
        service: "一般送配電事業・発電事業",
        condition_ja: "システムの不具合により、供給支障電力が10万キロワット以上で、その支障時間が10分以上",
        condition_en: "supply interruption >= 100,000 kW lasting >= 10 min",
        statute: "電気関係報告規則（事故報告）第3条",
        min_users: None,
        min_duration_minutes: Some(10),
        min_interrupted_kw: Some(100_000),
        min_households: None,
    },
    ServiceLevelDefault {
        sector: "gas",
        service: "一般ガス導管事業・ガス製造事業",
        condition_ja: "システムの不具合により、供給支障戸数が30以上",
        condition_en: "supply interruption to >= 30 households",
        statute: "ガス関係報告規則第4条",
        min_users: None,
        min_duration_minutes: None,
        min_interrupted_kw: None,
        min_households: Some(30),
    },
    any_disruption(
        "government",
        "地方公共団体の行政サービス",
        "地方公共団体における情報セキュリティポリシーに関するガイドライン",
    ),
    any_disruption("medical", "診療", "医療情報システムの安全管理に関するガイドライン"),
    any_disruption("water", "水道による水の供給", "水道分野における情報セキュリティガイドライン"),
    any_disruption(
        "logistics",
        "貨物自動車運送事業・船舶運航事業・倉庫業",
        "物流分野における情報セキュリティ確保に係る安全ガイドライン",
    ),
    any_disruption("chemical", "石油化学工業", "石油化学分野における情報セキュリティ確保に係る安全基準"),
    any_disruption("credit", "クレジットサービス", "割賦販売法（後払分野）に基づく監督の基本方針"),
    any_disruption("petroleum", "石油の供給", "石油分野における情報セキュリティ確保に係る安全ガイドライン"),
    any_disruption(
        "port",
        "TOSによるターミナルオペレーション",
        "港湾分野における情報セキュリティ確保に係る安全ガイドライン",
    ),
];

/// Default sector dependencies (domain.md §10) as (dependent, depended-on) pairs.
pub fn default_dependencies() -> Vec<(&'static str, &'static str)> {
    let mut edges = Vec::new();
    for s in SECTORS.iter().map(|s| s.code) {
        for base in ["electricity", "telecom"] {
            if s != base {
                edges.push((s, base));
            }
        }
    }
    for (a, b) in [("finance", "credit"), ("aviation", "airport"), ("logistics", "port")] {
        edges.push((a, b));
        edges.push((b, a));
    }
    edges.extend([
        ("logistics", "petroleum"),
        ("medical", "water"),
        ("chemical", "petroleum"),
        ("government", "finance"),
    ]);
    edges
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sector_has_a_known_ministry_and_a_rule() {
        for s in &SECTORS {
            assert!(MINISTRIES.iter().any(|m| m.0 == s.ministry), "{}", s.code);
            assert!(SERVICE_LEVELS.iter().any(|r| r.sector == s.code), "{}", s.code);
        }
    }

    #[test]
    fn dependency_edges_name_real_sectors() {
        for (a, b) in default_dependencies() {
            assert!(SECTORS.iter().any(|s| s.code == a) && SECTORS.iter().any(|s| s.code == b));
            assert_ne!(a, b);
        }
    }
}
