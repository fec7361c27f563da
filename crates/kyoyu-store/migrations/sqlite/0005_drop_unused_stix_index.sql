-- kyoyu schema, version 5. Pages filter `latest` as a condition and walk
-- stix_by_added (collection, date_added, seq) in order; the (collection, latest, …) index was
-- never chosen and only cost every insert.
DROP INDEX stix_latest_by_added;
