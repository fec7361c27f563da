//! Indicators found in free text: IP addresses, domains, URLs, file hashes, e-mail addresses and
//! CVE ids. Only narrative fields are scanned, never contact fields, so a reporter's own
//! address never becomes an indicator.

use regex::Regex;
use std::collections::BTreeSet;
use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Observable {
    Ipv4(String),
    Ipv6(String),
    Domain(String),
    Url(String),
    Email(String),
    Md5(String),
    Sha1(String),
    Sha256(String),
    Cve(String),
}

impl Observable {
    /// The value compared when correlating, lower-cased (CVE ids upper-cased, as written).
    pub fn value(&self) -> &str {
        match self {
            Observable::Ipv4(v)
            | Observable::Ipv6(v)
            | Observable::Domain(v)
            | Observable::Url(v)
            | Observable::Email(v)
            | Observable::Md5(v)
            | Observable::Sha1(v)
            | Observable::Sha256(v)
            | Observable::Cve(v) => v,
        }
    }
}

struct Patterns {
    url: Regex,
    email: Regex,
    ipv4: Regex,
    ipv6: Regex,
    domain: Regex,
    hash: Regex,
    cve: Regex,
}

/// Word boundaries are ASCII ones (`(?-u:\b)`): the values are ASCII, and Unicode boundaries
/// would keep the regex engine off its fast path on Japanese text.
fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| Patterns {
        url: Regex::new(r#"(?i)(?-u:\b)https?://[^\s"'<>、。）)」\]]+"#).expect("url pattern"),
        email: Regex::new(r"(?i)(?-u:\b)[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?-u:\b)")
            .expect("email pattern"),
        ipv4: Regex::new(
            r"(?-u:\b)(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?-u:\b)",
        )
        .expect("ipv4 pattern"),
        ipv6: Regex::new(r"(?i)(?-u:\b)(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}(?-u:\b)").expect("ipv6 pattern"),
        domain: Regex::new(r"(?i)(?-u:\b)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,24})(?-u:\b)")
            .expect("domain pattern"),
        hash: Regex::new(r"(?i)(?-u:\b)(?:[0-9a-f]{64}|[0-9a-f]{40}|[0-9a-f]{32})(?-u:\b)").expect("hash pattern"),
        cve: Regex::new(r"(?i)(?-u:\b)CVE-\d{4}-\d{4,7}(?-u:\b)").expect("cve pattern"),
    })
}

/// File names that look like domains ("report.pdf") are not domains.
const FILE_SUFFIXES: [&str; 14] =
    ["exe", "dll", "pdf", "doc", "docx", "xls", "xlsx", "zip", "txt", "log", "js", "ps1", "bat", "lnk"];

/// Every observable in `texts`, each once, in a stable order.
pub fn extract<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<Observable> {
    let p = patterns();
    let mut found = BTreeSet::new();
    for text in texts {
        // URLs and addresses first; what they contain is not counted again as a domain.
        let mut rest = text.to_string();
        for m in p.url.find_iter(text) {
            found.insert(Observable::Url(m.as_str().trim_end_matches(['.', ',']).to_string()));
            rest = rest.replace(m.as_str(), " ");
        }
        for m in p.email.find_iter(&rest.clone()) {
            found.insert(Observable::Email(m.as_str().to_lowercase()));
            rest = rest.replace(m.as_str(), " ");
        }
        for m in p.cve.find_iter(&rest) {
            found.insert(Observable::Cve(m.as_str().to_uppercase()));
        }
        for m in p.ipv4.find_iter(&rest) {
            found.insert(Observable::Ipv4(m.as_str().to_string()));
        }
        for m in p.ipv6.find_iter(&rest) {
            found.insert(Observable::Ipv6(m.as_str().to_lowercase()));
        }
        for m in p.hash.find_iter(&rest) {
            let h = m.as_str().to_lowercase();
            found.insert(match h.len() {
                32 => Observable::Md5(h),
                40 => Observable::Sha1(h),
                _ => Observable::Sha256(h),
            });
        }
        for m in p.domain.find_iter(&rest) {
            let d = m.as_str().to_lowercase();
            let tld = d.rsplit('.').next().unwrap_or_default();
            let numeric = d.chars().all(|c| c.is_ascii_digit() || c == '.');
            if !numeric && !FILE_SUFFIXES.contains(&tld) {
                found.insert(Observable::Domain(d));
            }
        }
    }
    found.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_each_kind_once() {
        let text = "C2 は 203.0.113.7 と evil.example.com、https://evil.example.com/a?b=1 へ通信。\
                    添付 invoice.pdf の SHA-256 は e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855、\
                    差出人 attacker@phish.example.net、CVE-2024-3400 を悪用。再度 203.0.113.7。";
        let got = extract([text]);
        assert!(got.contains(&Observable::Ipv4("203.0.113.7".into())));
        assert!(got.contains(&Observable::Domain("evil.example.com".into())));
        assert!(got.contains(&Observable::Url("https://evil.example.com/a?b=1".into())));
        assert!(got.contains(&Observable::Email("attacker@phish.example.net".into())));
        assert!(got.contains(&Observable::Cve("CVE-2024-3400".into())));
        assert!(got.iter().any(|o| matches!(o, Observable::Sha256(_))));
        assert!(!got.iter().any(|o| o.value() == "invoice.pdf"), "file names are not domains");
        assert!(!got.iter().any(|o| o.value() == "phish.example.net"), "an address's domain is not counted twice");
        assert_eq!(got.iter().filter(|o| o.value() == "203.0.113.7").count(), 1);
    }

    #[test]
    fn plain_japanese_text_has_none() {
        assert!(extract(["制御系システムが停止した。原因は調査中。"]).is_empty());
    }
}
