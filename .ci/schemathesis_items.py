#!/usr/bin/env python3
"""Gives schemathesis real items to work on, so each kind of user's run checks the answers
about reports and advisories it may read (not only 404s for made-up ids).

Usage: schemathesis_items.py BASE CREDENTIALS LOGIN BASE_CONFIG OUT_CONFIG

The first call files a report on the anonymised route (telecom-a.ntk) and forwards it up the
chain (the telecom CEPTOAR's secretariat, then MIC's liaison), so the secretariat, the liaison
and the coordinator each hold a rendition. Every call writes OUT_CONFIG: BASE_CONFIG plus, for
LOGIN, the id of an item of each kind it may read, for the operations on that kind of item.
"""
import json
import sys
import urllib.error
import urllib.request

base, creds_path, login, base_config, out_config = sys.argv[1:6]
users = {u["login"]: u for u in json.load(open(creds_path))["users"]}


def call(who, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + users[who]["token"])
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req) as r:
            return json.load(r)
    except urllib.error.HTTPError as e:
        sys.exit(f"{method} {path} as {who}: {e.code} {e.read().decode()}")


def first(who, path):
    items = call(who, "GET", path).get("items", [])
    return items[0]["id"] if items else None


def make_chain():
    if first("nisc.cip", "/api/v1/reports?limit=1"):
        return
    report = {
        "route": "anonymised", "statutory": False, "severity": "warning", "tlp": "AMBER", "has_attachments": False,
        "event_type": "malware_infection", "causes": ["suspicious_email"], "sector": "telecom",
        "summary": {"description": "業務端末でマルウェア感染を検知 / malware on an office PC"},
    }
    call("telecom-a.ntk", "POST", "/api/v1/reports", report)
    for relay in ("telecom-ceptoar.secretariat", "mic.liaison"):
        call(relay, "POST", f"/api/v1/reports/{first(relay, '/api/v1/reports?limit=1')}/forward", {})


make_chain()
blocks = []
for prefix, listing in (
    ("/api/v1/reports/", "/api/v1/reports?limit=1"),
    ("/api/v1/advisories/", "/api/v1/advisories?limit=1"),
    ("/api/v1/scope-widenings/", "/api/v1/scope-widenings"),
):
    item = first(login, listing)
    if item:
        regex = "^" + prefix.replace("/", "/") + r"\{id\}"
        blocks.append(f"[[operations]]\ninclude-path-regex = '{regex}'\nparameters = {{ \"path.id\" = \"{item}\" }}\n")
with open(out_config, "w") as out:
    out.write(open(base_config).read() + "\n# Items " + login + " may read (.ci/schemathesis_items.py)\n" + "\n".join(blocks))
