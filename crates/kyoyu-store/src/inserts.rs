//! Multi-row INSERTs described without naming a database, so that the writer can run a
//! batch's inserts the way each database does them best: on SQLite all of them as one
//! execution, on PostgreSQL one statement at a time.
//!
//! Why SQLite differs: sqlx runs each SQLite statement on a worker thread of its own, so a
//! statement costs a hand-off there and back, and the task sending the next one waits for a
//! tokio worker that is busy with HTTP requests. A batch's dozen inserts spent more time in
//! those hand-offs than in SQLite. One execution of several statements is one hand-off: sqlx
//! prepares them in turn on the worker thread and binds each its share of the arguments.
//! PostgreSQL cannot take bound arguments for several statements at once, and each of its
//! statements is one round trip anyway.

use crate::{Conn, Result};
use sqlx::{Database, Encode, QueryBuilder, Type};

/// A value bound to one column of one row.
pub(crate) enum Value<'a> {
    Text(Option<&'a str>),
    Owned(Option<String>),
    Int(i64),
    Bool(bool),
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(s: &'a str) -> Self {
        Value::Text(Some(s))
    }
}

impl<'a> From<Option<&'a str>> for Value<'a> {
    fn from(s: Option<&'a str>) -> Self {
        Value::Text(s)
    }
}

impl From<String> for Value<'_> {
    fn from(s: String) -> Self {
        Value::Owned(Some(s))
    }
}

impl From<i64> for Value<'_> {
    fn from(n: i64) -> Self {
        Value::Int(n)
    }
}

impl From<bool> for Value<'_> {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

/// `INSERT INTO table (columns) VALUES (…), (…) [tail]`.
pub(crate) struct Insert<'a> {
    head: &'static str,
    width: usize,
    values: Vec<Value<'a>>,
    tail: &'static str,
}

impl<'a> Insert<'a> {
    /// `head` is `INSERT INTO table (columns) `; `width` is the number of columns.
    pub(crate) fn new(head: &'static str, width: usize) -> Self {
        Insert { head, width, values: Vec::new(), tail: "" }
    }

    /// What follows the values, such as an `ON CONFLICT` clause.
    pub(crate) fn then(mut self, tail: &'static str) -> Self {
        self.tail = tail;
        self
    }

    pub(crate) fn row<const N: usize>(&mut self, values: [Value<'a>; N]) {
        assert_eq!(N, self.width, "a row of {} has {} columns", self.head, self.width);
        self.values.extend(values);
    }

    /// Rows, in parts of at most `max` rows a statement (see [`crate::statement_parts`]).
    pub(crate) fn of<T, const N: usize>(
        head: &'static str,
        rows: &'a [T],
        max: usize,
        row: impl Fn(&'a T) -> [Value<'a>; N],
    ) -> Vec<Insert<'a>> {
        crate::statement_parts(rows, max)
            .map(|part| {
                let mut insert = Insert::new(head, N);
                part.iter().for_each(|r| insert.row(row(r)));
                insert
            })
            .collect()
    }

    fn push_onto<DB>(self, qb: &mut QueryBuilder<'a, DB>)
    where
        DB: Database,
        Option<&'a str>: Encode<'a, DB> + Type<DB>,
        Option<String>: Encode<'a, DB> + Type<DB>,
        i64: Encode<'a, DB> + Type<DB>,
        bool: Encode<'a, DB> + Type<DB>,
    {
        qb.push(self.head);
        let width = self.width;
        let mut values = self.values.into_iter();
        let rows: Vec<Vec<Value<'a>>> =
            std::iter::from_fn(|| Some(values.by_ref().take(width).collect::<Vec<_>>()).filter(|r| !r.is_empty()))
                .collect();
        qb.push_values(rows, |mut b, row| {
            for v in row {
                match v {
                    Value::Text(s) => b.push_bind(s),
                    Value::Owned(s) => b.push_bind(s),
                    Value::Int(n) => b.push_bind(n),
                    Value::Bool(x) => b.push_bind(x),
                };
            }
        });
        qb.push(self.tail);
    }
}

/// Runs the inserts in order, then `finish` (a `RELEASE` or `COMMIT` that ends what they
/// belong to, if any). On SQLite that statement joins the same execution, saving the writer
/// a hand-off; a failed insert stops the execution before it, as running it apart would.
pub(crate) async fn run(conn: Conn<'_>, inserts: Vec<Insert<'_>>, finish: Option<&'static str>) -> Result<()> {
    let inserts: Vec<Insert<'_>> = inserts.into_iter().filter(|i| !i.values.is_empty()).collect();
    if inserts.is_empty() && finish.is_none() {
        return Ok(());
    }
    match conn {
        Conn::Sqlite(c) => {
            let mut qb = QueryBuilder::new("");
            let after_inserts = !inserts.is_empty();
            for (i, insert) in inserts.into_iter().enumerate() {
                if i > 0 {
                    qb.push(";\n");
                }
                insert.push_onto(&mut qb);
            }
            if let Some(finish) = finish {
                if after_inserts {
                    qb.push(";\n");
                }
                qb.push(finish);
            }
            // Not kept in the statement cache: the mix of statements differs with each batch.
            qb.build().persistent(false).execute(&mut *c).await?;
        }
        Conn::Postgres(c) => {
            for insert in inserts {
                let mut qb = QueryBuilder::new("");
                insert.push_onto(&mut qb);
                qb.build().execute(&mut *c).await?;
            }
            if let Some(finish) = finish {
                sqlx::query(finish).execute(&mut *c).await?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::{Connection, Executor, SqliteConnection};

    fn one_row(v: i64) -> Insert<'static> {
        let mut insert = Insert::new("INSERT INTO t (v) ", 1);
        insert.row([v.into()]);
        insert
    }

    async fn rows(c: &mut SqliteConnection) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(c).await.unwrap()
    }

    /// The COMMIT that ends a batch's inserts runs only if they all succeed: after a failed one
    /// the transaction is still open, to be rolled back with what came before it.
    #[tokio::test]
    async fn a_failed_insert_stops_before_the_commit() {
        let mut c = SqliteConnection::connect("sqlite::memory:").await.unwrap();
        c.execute("CREATE TABLE t (v INTEGER PRIMARY KEY)").await.unwrap();

        c.execute("BEGIN").await.unwrap();
        let clash = vec![one_row(1), one_row(1)];
        assert!(run(Conn::Sqlite(&mut c), clash, Some("COMMIT")).await.is_err());
        c.execute("ROLLBACK").await.expect("the transaction is still open");
        assert_eq!(rows(&mut c).await, 0);

        c.execute("BEGIN").await.unwrap();
        run(Conn::Sqlite(&mut c), vec![one_row(2)], Some("COMMIT")).await.unwrap();
        assert!(c.execute("ROLLBACK").await.is_err(), "committed: no transaction is left open");
        assert_eq!(rows(&mut c).await, 1);
    }
}
