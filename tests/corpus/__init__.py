"""The hostile input corpus: what an attacker, a broken exporter or a careless copy-paste sends us.

Everything here is generated, deterministically, by the modules of this package: files that are big or
binary (an XLSX zip bomb unpacks to 64 MB) are never committed, they are built when a test asks for them.
`python -m tests.corpus.build <folder>` writes the whole corpus out as files, to try by hand (upload them
in a browser, feed them to the CLI) or to hand to another tool.

- strings.py: text values (NUL, lone surrogates, RTL override, combining marks, emoji ZWJ sequences,
  BOMs, formula injection, huge text) for form fields, JSON fields and table cells;
- tables.py: CSV and XLSX files built around an importer's own header and a good row: wrong encodings,
  truncated UTF-16, overlong UTF-8, NUL bytes, huge cells, formula cells, XLSX zip bombs and damaged ZIPs;
- bodies.py: JSON bodies (truncated, 100,000 levels deep, huge, `\\ud800`, `\\u0000`, BOMs, wrong types)
  and feed XML (billion laughs, external entities, truncated, NUL).

tests/hostile/ runs the corpus against every importer, webhook, form and API operation.
"""
