"""The one content-negotiation table: every route that returns SPARQL results or RDF picks its format here.

A `Format` says which kinds of answer it can carry:
  results   SELECT solutions          boolean   ASK
  graph     CONSTRUCT/DESCRIBE triples (service description, VoID)
  dataset   quads (full dumps)        page      the HTML query page
`negotiate()` applies an Accept header (q-values, wildcards, aliases) or a `format=` override to the table;
its order is the server's preference when q-values tie. Writers turn pyoxigraph results into bytes, capped at
a number of rows. This module only needs pyoxigraph: query workers import it.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from mdkg.settings import DEFAULT_BASE

RESULTS, BOOLEAN, GRAPH, DATASET, PAGE = "results", "boolean", "graph", "dataset", "page"


@dataclass(frozen=True)
class Format:
    key: str
    media_type: str
    kinds: frozenset[str]
    extension: str
    aliases: tuple[str, ...] = ()  # other media types that select this format
    names: tuple[str, ...] = ()  # other values of `format=`
    rdf: ox.RdfFormat | None = None
    results: ox.QueryResultsFormat | None = None
    label: str = ""

    @property
    def content_type(self) -> str:
        textual = (
            self.media_type.startswith("text/")
            or self.media_type.endswith(("json", "xml"))
            or self.rdf is not None
        )
        return f"{self.media_type}; charset=utf-8" if textual else self.media_type

    def media_types(self) -> tuple[str, ...]:
        return (self.media_type, *self.aliases)


def _k(*kinds: str) -> frozenset[str]:
    return frozenset(kinds)


FORMATS: tuple[Format, ...] = (
    Format(
        "json",
        "application/sparql-results+json",
        _k(RESULTS, BOOLEAN),
        "srj",
        aliases=("application/json", "text/javascript", "application/javascript"),
        names=("srj",),
        results=ox.QueryResultsFormat.JSON,
        label="SPARQL JSON",
    ),
    Format(
        "xml",
        "application/sparql-results+xml",
        _k(RESULTS, BOOLEAN),
        "srx",
        aliases=("application/xml", "text/xml"),
        names=("srx",),
        results=ox.QueryResultsFormat.XML,
        label="SPARQL XML",
    ),
    Format("csv", "text/csv", _k(RESULTS, BOOLEAN), "csv", results=ox.QueryResultsFormat.CSV, label="CSV"),
    Format(
        "tsv",
        "text/tab-separated-values",
        _k(RESULTS, BOOLEAN),
        "tsv",
        results=ox.QueryResultsFormat.TSV,
        label="TSV",
    ),
    Format(
        "turtle",
        "text/turtle",
        _k(GRAPH),
        "ttl",
        aliases=("application/x-turtle", "application/turtle"),
        names=("ttl", "n3", "text/n3"),
        rdf=ox.RdfFormat.TURTLE,
        label="Turtle",
    ),
    Format(
        "ntriples",
        "application/n-triples",
        _k(GRAPH),
        "nt",
        aliases=("text/plain",),
        names=("nt", "n-triples"),
        rdf=ox.RdfFormat.N_TRIPLES,
        label="N-Triples",
    ),
    Format(
        "jsonld",
        "application/ld+json",
        _k(GRAPH, DATASET),
        "jsonld",
        aliases=("application/json",),
        names=("json-ld", "json"),
        rdf=ox.RdfFormat.JSON_LD,
        label="JSON-LD",
    ),
    Format(
        "rdfxml",
        "application/rdf+xml",
        _k(GRAPH),
        "rdf",
        aliases=("application/xml", "text/xml"),
        names=("rdf", "rdf-xml", "rdf+xml", "xml"),
        rdf=ox.RdfFormat.RDF_XML,
        label="RDF/XML",
    ),
    Format("trig", "application/trig", _k(GRAPH, DATASET), "trig", rdf=ox.RdfFormat.TRIG, label="TriG"),
    Format(
        "nquads",
        "application/n-quads",
        _k(GRAPH, DATASET),
        "nq",
        names=("nq", "n-quads"),
        rdf=ox.RdfFormat.N_QUADS,
        label="N-Quads",
    ),
    Format("html", "text/html", _k(PAGE), "html", aliases=("application/xhtml+xml",), label="HTML"),
)
BY_KEY = {f.key: f for f in FORMATS}

# Dataset dumps list N-Quads first: the format the build writes and the cheapest to stream.
DUMP_FORMATS = tuple(BY_KEY[k] for k in ("nquads", "trig"))

PREFIXES = {
    "mdkg": DEFAULT_BASE + "ontology#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "sd": "http://www.w3.org/ns/sparql-service-description#",
    "void": "http://rdfs.org/ns/void#",
}


# ---------------------------------------------------------------------------------------------- negotiation


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float

    def specificity(self, media_type: str) -> int:
        """-1 if this range does not match `media_type`, else 0 (*/*), 1 (type/*) or 2 (exact)."""
        t, _, s = media_type.partition("/")
        if self.type == "*":
            return 0
        if self.type != t:
            return -1
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == s else -1


def parse_accept(header: str | None) -> list[MediaRange]:
    """The media ranges of an Accept header; a missing, empty or unreadable header accepts everything."""
    ranges = []
    for part in (header or "").split(","):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
        mt = fields[0].lower()
        if "/" not in mt:
            mt = "*/*" if mt == "*" else mt
            if "/" not in mt:
                continue
        q = 1.0
        for param in fields[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
        t, _, s = mt.partition("/")
        ranges.append(MediaRange(t, s, q))
    return ranges or [MediaRange("*", "*", 1.0)]


def quality(ranges: Sequence[MediaRange], media_type: str) -> float:
    """The q-value the most specific matching range gives `media_type` (0: not acceptable)."""
    best, best_spec = 0.0, -1
    for r in ranges:
        spec = r.specificity(media_type)
        if spec > best_spec or (spec == best_spec and spec >= 0 and r.q > best):
            best, best_spec = r.q, spec
    return best if best_spec >= 0 else 0.0


def candidates(kinds: Iterable[str]) -> list[Format]:
    kinds = set(kinds)
    return [f for f in FORMATS if f.kinds & kinds]


def by_name(name: str, kinds: Iterable[str]) -> Format | None:
    """The format a `format=` value names (key, extension, alias or media type), among those of `kinds`."""
    name = name.strip().lower()
    for f in candidates(kinds):
        if name in (f.key, f.extension, *f.names) or name in f.media_types():
            return f
    return None


def known_override(overrides: Sequence[str] | str | None) -> bool:
    """Whether any of the `format=` values names a format of the table (unknown values are ignored)."""
    if isinstance(overrides, str):
        overrides = [overrides]
    return any(by_name(o, [RESULTS, BOOLEAN, GRAPH, DATASET, PAGE]) for o in overrides or ())


def negotiate(
    accept: str | None, kinds: Iterable[str], overrides: Sequence[str] | str | None = None
) -> Format | None:
    """The best format of those that can carry `kinds`, or None (answer 406).

    `overrides` are `format=` values: the first that names a format of these kinds wins; if they name only
    formats of other kinds, None; values that name no format at all (clients send several, some for other
    servers) are ignored and Accept decides."""
    kinds = tuple(kinds)
    if isinstance(overrides, str):
        overrides = [overrides]
    for name in overrides or ():
        fmt = by_name(name, kinds)
        if fmt:
            return fmt
    if known_override(overrides):
        return None
    ranges = parse_accept(accept)
    best, best_q, best_exact = None, 0.0, -1
    for f in candidates(kinds):
        # An alias only counts if the client names it exactly (application/json, text/plain...).
        q = quality(ranges, f.media_type)
        exact = max((r.specificity(f.media_type) for r in ranges), default=-1)
        for alias in f.aliases:
            named = [r.q for r in ranges if r.specificity(alias) == 2]
            if named and max(named) > q:
                q, exact = max(named), 2
        if q > best_q or (q == best_q and q > 0 and exact > best_exact):
            best, best_q, best_exact = f, q, exact
    return best


def acceptable_list(kinds: Iterable[str]) -> str:
    return ", ".join(f.media_type for f in candidates(kinds))


# ---------------------------------------------------------------------------------------------- writers

_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def _json_term(t) -> dict:
    if isinstance(t, ox.NamedNode):
        return {"type": "uri", "value": t.value}
    if isinstance(t, ox.Literal):
        d = {"type": "literal", "value": t.value}
        if t.language:
            d["xml:lang"] = t.language
            if getattr(t, "direction", None):
                d["its:dir"] = str(t.direction.value if hasattr(t.direction, "value") else t.direction)
        elif t.datatype.value != _XSD_STRING:
            d["datatype"] = t.datatype.value
        return d
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    if isinstance(t, ox.Triple):
        return {
            "type": "triple",
            "value": {
                "subject": _json_term(t.subject),
                "predicate": _json_term(t.predicate),
                "object": _json_term(t.object),
            },
        }
    raise TypeError(f"not an RDF term: {t!r}")


_EDGE_SPACE = re.compile(r"^[ \t\n]+|[ \t\n]+$")


def _xml_text(value: str) -> str:
    """A literal's text as XML that reads back the same: white space at either end and every CR as character
    references, as Oxigraph's writer does (parsers may trim text, and read a CR as a line end)."""
    text = escape(value).replace("\r", "&#13;")
    return _EDGE_SPACE.sub(lambda m: "".join(f"&#{ord(c)};" for c in m.group()), text)


def _xml_term(t) -> str:
    if isinstance(t, ox.NamedNode):
        return f"<uri>{escape(t.value)}</uri>"
    if isinstance(t, ox.Literal):
        if t.language:
            return f"<literal xml:lang={quoteattr(t.language)}>{_xml_text(t.value)}</literal>"
        if t.datatype.value != _XSD_STRING:
            return f"<literal datatype={quoteattr(t.datatype.value)}>{_xml_text(t.value)}</literal>"
        return f"<literal>{_xml_text(t.value)}</literal>"
    if isinstance(t, ox.BlankNode):
        return f"<bnode>{escape(t.value)}</bnode>"
    if isinstance(t, ox.Triple):
        return (
            f"<triple><subject>{_xml_term(t.subject)}</subject><predicate>{_xml_term(t.predicate)}"
            f"</predicate><object>{_xml_term(t.object)}</object></triple>"
        )
    raise TypeError(f"not an RDF term: {t!r}")


def _csv_term(t) -> str:
    if t is None:
        return ""
    if isinstance(t, ox.NamedNode | ox.Literal):
        return t.value
    if isinstance(t, ox.BlankNode):
        return f"_:{t.value}"
    return str(t)


def write_solutions(variables: Sequence[str], rows: Sequence[Sequence], fmt: Format) -> bytes:
    """SELECT results (rows: tuples of terms or None, in the order of `variables`) in a results format."""
    if fmt.key == "json":
        bindings = [
            {v: _json_term(t) for v, t in zip(variables, row, strict=False) if t is not None} for row in rows
        ]
        return json.dumps(
            {"head": {"vars": list(variables)}, "results": {"bindings": bindings}},
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")
    if fmt.key == "xml":
        out = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>']
        out += [f"<variable name={quoteattr(v)}/>" for v in variables]
        out.append("</head><results>")
        for row in rows:
            out.append("<result>")
            out += [
                f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>"
                for v, t in zip(variables, row, strict=False)
                if t is not None
            ]
            out.append("</result>")
        out.append("</results></sparql>\n")
        return "".join(out).encode("utf-8")
    if fmt.key == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(variables)
        w.writerows([_csv_term(t) for t in row] for row in rows)
        return buf.getvalue().encode("utf-8")
    if fmt.key == "tsv":
        lines = ["\t".join(f"?{v}" for v in variables)]
        lines += ["\t".join("" if t is None else str(t) for t in row) for row in rows]
        return ("\n".join(lines) + "\n").encode("utf-8")
    raise ValueError(f"{fmt.key} cannot carry SELECT results")


def write_boolean(value: bool, fmt: Format) -> bytes:
    if fmt.key == "json":
        return json.dumps({"head": {}, "boolean": bool(value)}).encode()
    if fmt.key == "xml":
        return (
            f'<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head/>'
            f"<boolean>{'true' if value else 'false'}</boolean></sparql>\n"
        ).encode()
    if fmt.key in ("csv", "tsv"):
        return b"true\n" if value else b"false\n"
    raise ValueError(f"{fmt.key} cannot carry an ASK result")


def write_triples(triples: Iterable, fmt: Format, prefixes: dict[str, str] | None = None) -> bytes:
    """Triples (or quads) in an RDF format; Turtle and TriG get the usual prefixes."""
    if fmt.rdf is None:
        raise ValueError(f"{fmt.key} cannot carry RDF")
    kwargs = {}
    if fmt.rdf in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG):
        kwargs["prefixes"] = PREFIXES if prefixes is None else prefixes
    return ox.serialize(triples, format=fmt.rdf, **kwargs) or b""


# ---------------------------------------------------------------------------------------------- entity documents
# Linked-data answers about one thing (api.routers.linkeddata): grouped, prefixed Turtle and compact JSON-LD with the
# published @context (GET /context.jsonld) inline, one node object per subject, nodes that only one other node points at
# (a relationship's roles, the labels of what the entity points at) nested where they are used.

RDF_TYPE_IRI = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LINK_PREFIXES = {
    "foaf": "http://xmlns.com/foaf/0.1/",
    "org": "http://www.w3.org/ns/org#",
    "schema": "https://schema.org/",
    "wd": "http://www.wikidata.org/entity/",
    "wdt": "http://www.wikidata.org/prop/direct/",
}


def document_prefixes(base: str) -> dict[str, str]:
    """Prefixes of an entity document for the server's base IRI: `id:` for its things, `mdkg:` for its terms."""
    return {**PREFIXES, **LINK_PREFIXES, "mdkg": base + "ontology#", "id": base + "id/",
            "state": base + "id/state/", "rel": base + "id/rel/"}


def jsonld_context(base: str) -> dict:
    """The published @context: the prefixes, so that every key and IRI of a document is a compact IRI."""
    return {"@context": {"@version": 1.1, **document_prefixes(base)}}


def _order(triples: Iterable, main: str | None) -> list:
    def key(t):
        s = t.subject
        first = 0 if isinstance(s, ox.NamedNode) and s.value == main else 1 if isinstance(s, ox.NamedNode) else 2
        return (first, str(s), t.predicate.value != RDF_TYPE_IRI, t.predicate.value, str(t.object))

    return sorted({t for t in triples}, key=key)


def write_grouped_turtle(triples: Iterable, base: str, main: str | None = None) -> bytes:
    """Turtle with one block per subject (the described thing first), prefixed."""
    triples = _order(triples, main)
    terms = [term for t in triples for term in (t.subject, t.predicate, t.object)]
    iris = {term.value for term in terms if isinstance(term, ox.NamedNode)}
    iris |= {t.object.datatype.value for t in triples if isinstance(t.object, ox.Literal)}
    used = {k: v for k, v in document_prefixes(base).items() if any(i.startswith(v) for i in iris)}
    return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes=used) or b""


def _compact(iri: str, prefixes: dict[str, str]) -> str:
    best = ""
    for name, ns in prefixes.items():
        if iri.startswith(ns) and len(ns) > len(prefixes.get(best, "")):
            best = name
    if best:
        rest = iri[len(prefixes[best]) :]
        if rest and not rest.startswith("//") and "#" not in rest[:1]:
            return f"{best}:{rest}"
    return iri


def _node_ref(term, prefixes) -> str:
    return f"_:{term.value}" if isinstance(term, ox.BlankNode) else _compact(term.value, prefixes)


def write_compact_jsonld(triples: Iterable, base: str, main: str | None = None) -> bytes:
    """Compact JSON-LD: `{"@context": {...}, "@graph": [...]}` with one node object per subject. The context is the
    published one (GET /context.jsonld), written inline so that a client needs no second request to read it."""
    prefixes = document_prefixes(base)
    triples = _order(triples, main)
    by_subject: dict = {}
    for t in triples:
        by_subject.setdefault(t.subject, []).append(t)
    pointed: dict = {}
    for t in triples:
        if isinstance(t.object, ox.NamedNode | ox.BlankNode) and t.object in by_subject:
            pointed.setdefault(t.object, set()).add(t.subject)
    main_node = ox.NamedNode(main) if main else None
    # a node is nested where it is used when exactly one other node points at it (once) and it is not the main one
    nested = {n for n, by in pointed.items() if len(by) == 1 and n != main_node and n not in by}
    uses = {n: sum(1 for t in triples if t.object == n) for n in nested}
    nested = {n for n in nested if uses[n] == 1}

    emitted: set = set()

    def node_object(subject, trail: frozenset) -> dict:
        emitted.add(subject)
        obj: dict = {"@id": _node_ref(subject, prefixes)}
        for t in by_subject.get(subject, []):
            if t.predicate.value == RDF_TYPE_IRI and isinstance(t.object, ox.NamedNode):
                obj.setdefault("@type", []).append(_compact(t.object.value, prefixes))
                continue
            key = _compact(t.predicate.value, prefixes)
            obj.setdefault(key, []).append(value(t.object, trail | {subject}))
        return {k: (v[0] if isinstance(v, list) and len(v) == 1 and k != "@type" else v) for k, v in obj.items()}

    def value(o, trail: frozenset):
        if isinstance(o, ox.Literal):
            if o.language:
                return {"@value": o.value, "@language": o.language}
            if o.datatype.value == _XSD_STRING:
                return o.value
            return {"@value": o.value, "@type": _compact(o.datatype.value, prefixes)}
        if o in nested and o not in trail:
            return node_object(o, trail)
        return {"@id": _node_ref(o, prefixes)}

    graph = [node_object(s, frozenset()) for s in by_subject if s not in nested]
    graph += [node_object(s, frozenset()) for s in by_subject if s not in emitted]  # nested only in a cycle
    doc = {**jsonld_context(base), "@graph": graph}
    return json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
