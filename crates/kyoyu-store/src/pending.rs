//! New rows kept in memory and written together. A new chain, rendition (with its readers)
//! or item's STIX objects is not written when its transaction asks, but when the batch
//! commits, in one multi-row statement per table for every transaction of the batch; a
//! transaction that does nothing else then costs the writer no statement of its own.
//!
//! Nothing can read them early: before any other statement runs in the batch, the rows
//! waiting are written first (those of finished transactions outside any savepoint, the
//! transaction's own inside its savepoint). Their ids are new, so nobody outside can name
//! them before the batch commits.

use crate::inserts::Insert;
use crate::rows::{ChainRow, NewRendition};
use crate::stix::{insert_objects, ItemRef, ObjectsOf, Placing};
use crate::{Concealed, Conn, MailRow, NotificationRow, Result};
use kyoyu_domain::codes::ReportStatus;
use kyoyu_domain::{FreeText, Tlp};
use kyoyu_policy::AccessGrants;
use kyoyu_stix::StixObject;

/// Rows per multi-row statement: at most 16 parameters a row, well under both databases' limits.
const ROWS_PER_STATEMENT: usize = 256;

#[derive(Default)]
pub(crate) struct Pending {
    chains: Vec<ChainRow>,
    renditions: Vec<RenditionRow>,
    access: Vec<AccessRow>,
    objects: Vec<ItemObjects>,
    /// Renditions whose STIX objects are made after the batch (`stix_backlog`).
    backlog: Vec<BacklogRow>,
    /// In-app notifications, each with the concealment of the transaction that added it.
    notifications: Vec<NotificationRow>,
    mail: Vec<MailEntry>,
    /// TAXII status resources: id, organisation, collection, time, outcome.
    taxii_statuses: Vec<[String; 5]>,
}

/// A mail to send, with the notification it tells of and its transaction's concealment.
struct MailEntry {
    row: MailRow,
    notification_id: Option<String>,
    concealed: Option<Concealed>,
}

struct BacklogRow {
    report_id: String,
    identifier: Option<String>,
}

/// A rendition as stored: the content already serialised.
struct RenditionRow {
    id: String,
    chain_id: String,
    sequence: i64,
    parent_id: Option<String>,
    sender_org_id: String,
    receiver_org_id: String,
    tlp: &'static str,
    severity: Option<&'static str>,
    event_type: Option<&'static str>,
    sector: String,
    identifies_operator: bool,
    content: String,
    search_text: String,
    created_by: String,
    created_at: String,
}

/// One reader row, carrying its rendition's time so that lists walk an index newest first.
struct AccessRow {
    org_id: String,
    report_id: String,
    need_to_know: bool,
    created_at: String,
}

struct ItemObjects {
    collection: String,
    item: OwnedItem,
    tlp: Tlp,
    date_added: String,
    objects: Vec<StixObject>,
}

enum OwnedItem {
    Report(String),
    Advisory(String),
}

impl OwnedItem {
    fn as_ref(&self) -> ItemRef<'_> {
        match self {
            OwnedItem::Report(id) => ItemRef::Report(id),
            OwnedItem::Advisory(id) => ItemRef::Advisory(id),
        }
    }
}

impl Pending {
    pub(crate) fn is_empty(&self) -> bool {
        self.chains.is_empty()
            && self.renditions.is_empty()
            && self.access.is_empty()
            && self.objects.is_empty()
            && self.backlog.is_empty()
            && self.notifications.is_empty()
            && self.mail.is_empty()
            && self.taxii_statuses.is_empty()
    }

    /// Takes another transaction's rows into this batch's.
    pub(crate) fn absorb(&mut self, other: Pending) {
        self.chains.extend(other.chains);
        self.renditions.extend(other.renditions);
        self.access.extend(other.access);
        self.objects.extend(other.objects);
        self.backlog.extend(other.backlog);
        self.notifications.extend(other.notifications);
        self.mail.extend(other.mail);
        self.taxii_statuses.extend(other.taxii_statuses);
    }

    pub(crate) fn add_notification(&mut self, n: NotificationRow) {
        self.notifications.push(n);
    }

    pub(crate) fn add_mail(&mut self, row: MailRow, notification_id: Option<&str>, concealed: Option<Concealed>) {
        self.mail.push(MailEntry { row, notification_id: notification_id.map(str::to_string), concealed });
    }

    pub(crate) fn add_taxii_status(&mut self, row: [String; 5]) {
        self.taxii_statuses.push(row);
    }

    pub(crate) fn add_backlog(&mut self, report_id: &str, identifier: Option<&str>) {
        self.backlog.push(BacklogRow { report_id: report_id.to_string(), identifier: identifier.map(str::to_string) });
    }

    pub(crate) fn add_chain(&mut self, chain: &ChainRow) {
        self.chains.push(chain.clone());
    }

    pub(crate) fn add_rendition(&mut self, r: &NewRendition, grants: &AccessGrants) {
        self.renditions.push(RenditionRow {
            id: r.id.clone(),
            chain_id: r.chain_id.clone(),
            sequence: r.sequence,
            parent_id: r.parent_id.clone(),
            sender_org_id: r.sender_org_id.clone(),
            receiver_org_id: r.receiver_org_id.clone(),
            tlp: r.content.tlp.code(),
            severity: r.content.severity.map(|s| s.code()),
            event_type: r.content.event_type.map(|e| e.code()),
            sector: r.content.sector.clone(),
            identifies_operator: r.identifies_operator,
            content: serde_json::to_string(&r.content).expect("content serialises"),
            search_text: r.content.search_text(),
            created_by: r.created_by.clone(),
            created_at: r.created_at.clone(),
        });
        self.add_access(&r.id, &r.created_at, grants);
    }

    pub(crate) fn add_access(&mut self, report_id: &str, created_at: &str, grants: &AccessGrants) {
        self.access.extend(grants.rows().iter().map(|(org_id, need_to_know)| AccessRow {
            org_id: org_id.clone(),
            report_id: report_id.to_string(),
            need_to_know: *need_to_know,
            created_at: created_at.to_string(),
        }));
    }

    pub(crate) fn add_item_objects(&mut self, made: ObjectsOf<'_>) {
        let item = match made.item {
            ItemRef::Report(id) => OwnedItem::Report(id.to_string()),
            ItemRef::Advisory(id) => OwnedItem::Advisory(id.to_string()),
        };
        self.objects.push(ItemObjects {
            collection: made.collection.to_string(),
            item,
            tlp: made.tlp,
            date_added: made.date_added.to_string(),
            objects: made.objects,
        });
    }

    /// Writes every row, parents before the rows that refer to them, and then `after` (rows
    /// that refer to these), as one run of inserts (see [`crate::inserts`]), and ends with
    /// `finish` (see [`crate::inserts::run`]).
    pub(crate) async fn write(
        self,
        mut conn: Conn<'_>,
        after: Vec<Insert<'_>>,
        finish: Option<&'static str>,
    ) -> Result<()> {
        let mut inserts = self.inserts();
        inserts.extend(after);
        if self.objects.is_empty() {
            return crate::inserts::run(conn, inserts, finish).await;
        }
        crate::inserts::run(conn.re(), inserts, None).await?;
        let placed: Vec<(&StixObject, Placing<'_>)> = self
            .objects
            .iter()
            .flat_map(|set| {
                let at = Placing {
                    collection: &set.collection,
                    date_added: &set.date_added,
                    tlp: Some(set.tlp),
                    item: Some(set.item.as_ref()),
                    owner_org_id: None,
                    audience: None,
                    latest: true,
                };
                set.objects.iter().map(move |o| (o, at))
            })
            .collect();
        insert_objects(conn.re(), &placed).await?;
        crate::inserts::run(conn, Vec::new(), finish).await
    }

    fn inserts(&self) -> Vec<Insert<'_>> {
        let mut all = Insert::of(
            "INSERT INTO chains (id, route, statutory, sector, originator_org_id, secretariat_org_id, identifier, created_at, exercise) ",
            &self.chains,
            ROWS_PER_STATEMENT,
            |ch| {
                [
                    ch.id.as_str().into(),
                    ch.route.code().into(),
                    ch.statutory.into(),
                    ch.sector.as_str().into(),
                    ch.originator_org_id.as_str().into(),
                    ch.secretariat_org_id.as_deref().into(),
                    ch.identifier.as_deref().into(),
                    ch.created_at.as_str().into(),
                    ch.exercise.into(),
                ]
            },
        );
        all.extend(Insert::of(
            "INSERT INTO reports (id, chain_id, sequence, parent_id, sender_org_id, receiver_org_id, status, tlp, severity,
               event_type, sector, identifies_operator, content, search_text, created_by, created_at) ",
            &self.renditions,
            ROWS_PER_STATEMENT,
            |r| {
                [
                    r.id.as_str().into(),
                    r.chain_id.as_str().into(),
                    r.sequence.into(),
                    r.parent_id.as_deref().into(),
                    r.sender_org_id.as_str().into(),
                    r.receiver_org_id.as_str().into(),
                    ReportStatus::Sent.code().into(),
                    r.tlp.into(),
                    r.severity.into(),
                    r.event_type.into(),
                    r.sector.as_str().into(),
                    r.identifies_operator.into(),
                    r.content.as_str().into(),
                    r.search_text.as_str().into(),
                    r.created_by.as_str().into(),
                    r.created_at.as_str().into(),
                ]
            },
        ));
        all.extend(Insert::of(
            "INSERT INTO report_access (org_id, report_id, need_to_know, created_at) ",
            &self.access,
            ROWS_PER_STATEMENT,
            |a| {
                [
                    a.org_id.as_str().into(),
                    a.report_id.as_str().into(),
                    a.need_to_know.into(),
                    a.created_at.as_str().into(),
                ]
            },
        ));
        all.extend(Insert::of(
            "INSERT INTO taxii_status (id, org_id, collection, created_at, outcome) ",
            &self.taxii_statuses,
            ROWS_PER_STATEMENT,
            |row| row.each_ref().map(|v| v.as_str().into()),
        ));
        all.extend(Insert::of(
            "INSERT INTO stix_backlog (report_id, identifier) ",
            &self.backlog,
            ROWS_PER_STATEMENT,
            |w| [w.report_id.as_str().into(), w.identifier.as_deref().into()],
        ));
        all.extend(Insert::of(
            "INSERT INTO notifications (id, user_id, kind, object_type, object_id, subject, subject_en, created_at,
               conceal_org_id, conceal_secretariat_id) ",
            &self.notifications,
            ROWS_PER_STATEMENT,
            |n| {
                let (org, secretariat) = conceal_columns(&n.concealed);
                [
                    n.id.as_str().into(),
                    n.user_id.as_str().into(),
                    n.kind.as_str().into(),
                    n.object_type.as_str().into(),
                    n.object_id.as_str().into(),
                    n.subject.as_str().into(),
                    n.subject_en.as_deref().into(),
                    n.created_at.as_str().into(),
                    org.into(),
                    secretariat.into(),
                ]
            },
        ));
        all.extend(Insert::of(
            "INSERT INTO mail_outbox (id, notification_id, to_address, subject, body, next_attempt_at, created_at,
               conceal_org_id, conceal_secretariat_id) ",
            &self.mail,
            ROWS_PER_STATEMENT,
            |m| {
                let (org, secretariat) = conceal_columns(&m.concealed);
                [
                    m.row.id.as_str().into(),
                    m.notification_id.as_deref().into(),
                    m.row.to_address.as_str().into(),
                    m.row.subject.as_str().into(),
                    m.row.body.as_str().into(),
                    m.row.next_attempt_at.as_str().into(),
                    m.row.created_at.as_str().into(),
                    org.into(),
                    secretariat.into(),
                ]
            },
        ));
        all
    }
}

/// The concealed operator and secretariat a row carries, as columns.
fn conceal_columns(c: &Option<Concealed>) -> (Option<&str>, Option<&str>) {
    match c {
        Some(c) => (Some(c.org_id.as_str()), c.secretariat_id.as_deref()),
        None => (None, None),
    }
}
