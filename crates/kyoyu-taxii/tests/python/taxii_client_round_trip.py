"""OASIS taxii2-client against a running kyoyu: discovery, API root, collections, paging
through a large collection with as_pages, adding objects with wait_for_completion, versions
and delete. Usage: taxii_client_round_trip.py DISCOVERY_URL TOKEN COLLECTION_ID"""

import sys
import uuid

import requests
from taxii2client.v21 import Collection, Server, as_pages

GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"


class Bearer(requests.auth.AuthBase):
    def __init__(self, token):
        self.token = token

    def __call__(self, r):
        r.headers["Authorization"] = "Bearer " + self.token
        return r


def indicator(oid, modified, n):
    return {
        "type": "indicator", "spec_version": "2.1", "id": oid,
        "created": "2026-01-01T00:00:00.000Z", "modified": modified,
        "name": "feed %d" % n, "pattern": "[ipv4-addr:value = '10.%d.%d.%d']" % (n // 65536 % 256, n // 256 % 256, n % 256),
        "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z", "object_marking_refs": [GREEN],
    }


def main(discovery, token, collection_id):
    auth = Bearer(token)
    server = Server(discovery, auth=auth)
    assert server.title, "discovery has a title"
    root = server.default or server.api_roots[0]
    assert "application/taxii+json;version=2.1" in root.versions, root.versions
    by_id = {c.id: c for c in root.collections}
    assert collection_id in by_id, list(by_id)
    external = by_id[collection_id]
    assert external.can_write and external.can_read
    collection = Collection(external.url, auth=auth)

    # Add a large collection in batches, each waited to completion.
    ids = ["indicator--%s" % uuid.uuid4() for _ in range(450)]
    for start in range(0, len(ids), 150):
        batch = [indicator(i, "2026-01-01T00:00:00.000Z", start + k) for k, i in enumerate(ids[start:start + 150])]
        status = collection.add_objects({"objects": batch}, wait_for_completion=True, poll_interval=0.2)
        assert status.status == "complete", status.status
        assert status.success_count == len(batch), (status.success_count, status.failures)

    # Page through everything with as_pages.
    seen = []
    pages = 0
    for envelope in as_pages(collection.get_objects, per_request=100):
        pages += 1
        seen.extend(o["id"] for o in envelope.get("objects", []))
    assert pages >= 5, pages
    assert len(seen) == len(set(seen)), "an object came twice"
    assert set(ids) <= set(seen), "objects missing from the pages"

    manifest_ids = []
    for envelope in as_pages(collection.get_manifest, per_request=200):
        manifest_ids.extend(m["id"] for m in envelope.get("objects", []))
    assert set(ids) <= set(manifest_ids)

    # A second version; versions, one object, then delete.
    target = ids[0]
    collection.add_objects({"objects": [indicator(target, "2026-06-01T00:00:00.000Z", 0)]}, wait_for_completion=True)
    versions = collection.object_versions(target)["versions"]
    assert len(versions) == 2, versions
    latest = collection.get_object(target)["objects"]
    assert len(latest) == 1 and latest[0]["modified"] == "2026-06-01T00:00:00.000Z", latest
    every = collection.get_object(target, version="all")["objects"]
    assert len(every) == 2, every
    collection.delete_object(target)
    try:
        collection.get_object(target)
    except requests.exceptions.HTTPError as e:
        assert e.response.status_code == 404
    else:
        raise AssertionError("deleted object still served")
    print("taxii2-client round trip: %d objects over %d pages" % (len(seen), pages))


if __name__ == "__main__":
    main(*sys.argv[1:4])
