"""The SHACL shapes documented for people (the /shapes page): one entry per shape with its targets and what it
requires, read from the shapes file parsed into a store (not the dataset: the build validates against them)."""

from __future__ import annotations

import pyoxigraph as ox

from graph import entities as E


def short_name(value: str, mdkg: str) -> str:
    """`prefix:local` for the vocabularies the pages name."""
    for prefix, ns in (
        ("mdkg", mdkg),
        ("rdfs", E.RDFS),
        ("skos", E.SKOS),
        ("dcterms", E.DCT),
        ("prov", E.PROV),
        ("owl", E.OWL),
        ("rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"),
        ("xsd", "http://www.w3.org/2001/XMLSchema#"),
        ("sh", "http://www.w3.org/ns/shacl#"),
    ):
        if value.startswith(ns):
            return f"{prefix}:{value[len(ns) :]}"
    return value


SH = "http://www.w3.org/ns/shacl#"


def shape_docs(store, mdkg: str) -> list[dict]:
    """The shapes as the /shapes page lists them: each shape, what it targets and what it requires
    (`mdkg`: the ontology namespace, for short names)."""
    rows = store.query(f"""PREFIX sh: <{SH}> PREFIX rdfs: <{E.RDFS}>
        SELECT ?s ?kind ?target ?path ?message ?label ?severity WHERE {{
          {{ ?s a sh:NodeShape BIND("node" AS ?kind) }} UNION {{ ?s a sh:PropertyShape BIND("property" AS ?kind) }}
          FILTER(isIRI(?s))
          OPTIONAL {{ ?s sh:targetClass ?target }} OPTIONAL {{ ?s sh:path ?path }}
          OPTIONAL {{ ?s sh:message ?message }} OPTIONAL {{ ?s rdfs:label ?label }}
          OPTIONAL {{ ?s sh:severity ?severity }} }} ORDER BY ?s""")
    out: dict[str, dict] = {}
    for r in rows:
        s = r["s"].value
        d = out.setdefault(
            s,
            {
                "iri": s,
                "name": E.local_name(s),
                "kind": r["kind"].value,
                "targets": set(),
                "path": None,
                "message": None,
                "label": None,
                "severity": None,
            },
        )
        if r["target"] is not None:
            d["targets"].add(r["target"].value)
        for k in ("path", "message", "label", "severity"):
            if r[k] is not None and isinstance(r[k].value, str) and not d[k]:
                d[k] = r[k].value
    for d in out.values():
        d["targets"] = sorted(d["targets"])
        d["requires"] = []
    props = store.query(f"""PREFIX sh: <{SH}>
        SELECT ?s ?ps ?path ?min ?max ?cls ?dt ?nk ?msg ?sparql WHERE {{ ?s a sh:NodeShape .
          {{ ?s sh:property ?ps OPTIONAL {{ ?ps sh:path ?path }} OPTIONAL {{ ?ps sh:minCount ?min }}
            OPTIONAL {{ ?ps sh:maxCount ?max }} OPTIONAL {{ ?ps sh:class ?cls }} OPTIONAL {{ ?ps sh:datatype ?dt }}
            OPTIONAL {{ ?ps sh:nodeKind ?nk }} OPTIONAL {{ ?ps sh:message ?msg }} }}
          UNION {{ ?s sh:sparql ?ps OPTIONAL {{ ?ps sh:message ?sparql }} }} }}""")
    for r in props:
        d = out.get(r["s"].value)
        if d is None:
            continue
        if r["sparql"] is not None:
            d["requires"].append(f"SPARQL constraint: {r['sparql'].value}")
            continue
        path = r["path"]
        if isinstance(path, ox.NamedNode):
            # sh:property may point at a named property shape listed below; its path says what it checks
            text = short_name(path.value, mdkg)
        elif isinstance(r["ps"], ox.NamedNode):
            text = f"{E.local_name(r['ps'].value)} (see below)"
        else:
            text = "(a path expression)"
        parts = [text]
        lo, hi = r["min"], r["max"]
        if lo is not None or hi is not None:
            parts.append(f"{lo.value if lo is not None else 0}..{hi.value if hi is not None else '*'}")
        for key in ("cls", "dt", "nk"):
            if r[key] is not None:
                parts.append(short_name(r[key].value, mdkg).replace("sh:", ""))
        if r["msg"] is not None:
            parts.append(f"— {r['msg'].value}")
        d["requires"].append(" ".join(parts))
    for d in out.values():
        d["requires"] = sorted(set(d["requires"]))
    return sorted(out.values(), key=lambda d: (d["kind"] != "node", d["name"].lower()))
