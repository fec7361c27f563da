"""How MISP's own STIX 2.1 importer (misp-stix, PyPI) reads the TLP of kyoyu's bundles.
Usage: misp_reads_markings.py FILE...; prints {"FILE": ["tlp:…", …]} with the event's TLP tags."""

import json
import sys

from misp_stix_converter import ExternalSTIX2toMISPParser
from stix2.parsing import parse

seen = {}
for path in sys.argv[1:]:
    with open(path) as f:
        bundle = parse(f.read(), allow_custom=True, interoperability=True)
    parser = ExternalSTIX2toMISPParser()
    parser.load_stix_bundle(bundle)
    parser.parse_stix_bundle()
    events = parser.misp_event if isinstance(parser.misp_event, list) else [parser.misp_event]
    tags = sorted({t.name for e in events for t in e.tags if t.name.startswith("tlp:")})
    seen[path.rsplit("/", 1)[-1]] = tags
print(json.dumps(seen))
