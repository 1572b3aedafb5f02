"""Stage 4b: curated figures (seeds/figures/*.yaml) -> checked observations, each anchored to the passage that
states it with a verbatim quote, and emitted as W3C RDF Data Cube observations (ontology/figures.ttl).

A figure names an indicator, an area, a period, a value and a unit from the ontology's schemes; its quote must
hold the value as the text writes it ("185 million", "three per cent", "one third", "US$ 206 billion"). Every
problem is reported as `file:line: field: message`, all of them in one pass, and nothing is emitted unless the
whole folder is clean."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import Any

from rdflib import DCTERMS, RDF, RDFS, XSD, Dataset, Literal, Namespace, URIRef
from rdflib.namespace import SKOS

from ingest.assertions import QuoteIndex
from ingest.dates import parse_partial_date
from ingest.documents import Document, Passage
from ingest.errors import SeedError, SeedErrors
from ingest.ontology import Ontology
from ingest.registry import Registry
from ingest.yamlio import Located, item_line, load_yaml
from mdkg.settings import PROV, Settings

QB = Namespace("http://purl.org/linked-data/cube#")
SDMX_DIMENSION = Namespace("http://purl.org/linked-data/sdmx/2009/dimension#")
SDMX_MEASURE = Namespace("http://purl.org/linked-data/sdmx/2009/measure#")
SDMX_ATTRIBUTE = Namespace("http://purl.org/linked-data/sdmx/2009/attribute#")

FIELDS = {"indicator", "area", "period", "value", "upper", "unit", "qualifiers", "breakdown", "quote", "also",
          "note"}
REQUIRED = ("indicator", "area", "period", "value", "quote")
WHOLE_UNITS = {"person", "count"}  # counts: whole, never negative
FORWARD_QUALIFIERS = {"projected", "target"}  # the only figures that may be about a time after their document
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


# -- values as the texts write them -------------------------------------------------------------------------
_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen".split())}
_WORDS.update({"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
               "ninety": 90, "a": 1, "an": 1})
_MULTIPLES = {"twice": 2, "double": 2, "doubled": 2, "triple": 3, "tripled": 3}
_HALVES = {"halve", "halved"}
_FRACTIONS = {"half": Fraction(1, 2), "third": Fraction(1, 3), "thirds": Fraction(1, 3),
              "quarter": Fraction(1, 4), "quarters": Fraction(1, 4)}
_SCALES = {"hundred": 100, "thousand": 1000, "million": 10**6, "billion": 10**9, "trillion": 10**12}
_TOKEN = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|[A-Za-z]+")


@dataclass(frozen=True)
class Written:
    """A number as written in a text: exact (digits, number words) or a fraction word ("one third")."""

    value: Decimal
    fraction: bool = False

    def matches(self, value: Decimal) -> bool:
        if not self.fraction:
            return self.value == value
        places = max(0, -value.as_tuple().exponent)
        return any(round(self.value * k, places) == value for k in (1, 100))


def written_numbers(text: str) -> list[Written]:
    """Every number the text writes, with its scale: "185 million" -> 185000000, "three per cent" -> 3,
    "3,000" -> 3000, "one third" -> 1/3, "nearly 2.3 million" -> 2300000 (and 2.3), "doubled" -> 2."""
    tokens = [t.lower() for t in _TOKEN.findall(text)]
    out: list[Written] = []
    for i, token in enumerate(tokens):
        if token in _MULTIPLES:
            out.append(Written(Decimal(_MULTIPLES[token])))
            continue
        if token in _HALVES:
            out.append(Written(Decimal("0.5"), fraction=True))
            continue
        if token in ("one", "1") and i + 2 < len(tokens) and tokens[i + 1] == "in":  # "one in (every) ten"
            j = i + 3 if tokens[i + 2] == "every" else i + 2
            n = _WORDS.get(tokens[j]) if j < len(tokens) and not tokens[j][0].isdigit() else None
            n = int(tokens[j]) if j < len(tokens) and tokens[j].isdigit() else n
            if n:
                out.append(Written(Decimal(1) / Decimal(n), fraction=True))
        if token in _FRACTIONS:
            numerator = _WORDS.get(tokens[i - 1], 1) if i and token != "half" else 1  # "two thirds"
            frac = _FRACTIONS[token] * numerator
            out.append(Written(Decimal(frac.numerator) / Decimal(frac.denominator), fraction=True))
            continue
        if token[0].isdigit():
            base = Decimal(token.replace(",", ""))
        elif token in _WORDS and token not in ("a", "an"):
            base = Decimal(_WORDS[token])
            if i + 1 < len(tokens) and tokens[i + 1] in _WORDS and _WORDS[tokens[i + 1]] < 10 and base >= 20:
                base += _WORDS[tokens[i + 1]]  # "twenty five" (a hyphen splits tokens too)
        elif token in ("a", "an") and i + 1 < len(tokens) and tokens[i + 1] in _SCALES:
            base = Decimal(1)  # "a thousand", "a million"
        else:
            continue
        out.append(Written(base))
        j, value = i + 1, base
        while j < len(tokens) and tokens[j] in _SCALES:
            value *= _SCALES[tokens[j]]
            out.append(Written(value))
            j += 1
        if j == i + 1 and j + 2 < len(tokens) and tokens[j] in ("to", "and") and tokens[j + 2] in _SCALES:
            out.append(Written(base * _SCALES[tokens[j + 2]]))  # "80 to 97 million": the scale is shared
    return out


# -- periods ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    text: str  # as written in the seed: 2005, 2005-10, 2005-10-01, 1995/2000, 2006/..
    literal: Literal  # the refPeriod value
    start: dt.date
    end: dt.date | None  # None: open at its end


def _bounds(text: str) -> tuple[dt.date, dt.date]:
    lit = parse_partial_date(text)  # ValueError for anything but YYYY, YYYY-MM, YYYY-MM-DD or a date that is not
    parts = [int(p) for p in str(lit).split("-")]
    if len(parts) == 3:
        day = dt.date(*parts)
        return day, day
    if len(parts) == 2:
        first = dt.date(parts[0], parts[1], 1)
        nxt = dt.date(parts[0] + (parts[1] == 12), parts[1] % 12 + 1, 1)
        return first, nxt - dt.timedelta(days=1)
    return dt.date(parts[0], 1, 1), dt.date(parts[0], 12, 31)


def parse_period(value: object) -> Period:
    """YYYY, YYYY-MM, YYYY-MM-DD, or an interval start/end of those (end ".." = open); ValueError otherwise."""
    text = str(value).strip()
    if "/" not in text:
        start, end = _bounds(text)
        return Period(text, parse_partial_date(text), start, end)
    first, _, last = text.partition("/")
    start = _bounds(first)[0]
    end = None if last == ".." else _bounds(last)[1]
    if end is not None and end < start:
        raise ValueError(f"impossible period {text!r}: it ends before it starts")
    return Period(text, Literal(text, datatype=XSD.string), start, end)


# -- figures ---------------------------------------------------------------------------------------------------
@dataclass
class Figure:
    doc: Document
    indicator: str
    area: str  # ISO3, registry id or area slug
    area_kind: str  # State | an entity kind | Area
    period: Period
    value: Decimal
    unit: str
    quote: str
    passages: list[Passage]
    where: Located
    upper: Decimal | None = None
    qualifiers: list[str] = field(default_factory=list)
    breakdown: str = "total"
    also: list[tuple[str, list[Passage]]] = field(default_factory=list)
    note: str | None = None

    @property
    def passage(self) -> Passage:
        return self.passages[0]

    @property
    def dimensions(self) -> tuple[str, str, str, str, str]:
        return (self.indicator, self.area, self.period.text, self.breakdown, f"{self.doc.id}/p{self.passage.n}")

    @property
    def key(self) -> str:
        """A stable id from the figure's dimensions (two figures with the same ones are an error)."""
        return hashlib.sha1(json.dumps(self.dimensions).encode()).hexdigest()[:12]


def load_figures(folder: Path, docs: list[Document], registry: Registry, ontology: Ontology) -> list[Figure]:
    if not folder.is_dir():
        return []
    by_id = {d.id: d for d in docs}
    vocab = {name: ontology.concepts(name) for name in ("indicator", "unit", "qualifier", "area")}
    default_units = _default_units(ontology)
    indexes: dict[str, QuoteIndex] = {}
    out: list[Figure] = []
    errors: list[SeedError] = []
    seen: dict[tuple, Figure] = {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            data = load_yaml(path)
        except SeedError as e:
            errors.append(e)
            continue
        if not isinstance(data, Located) or "figures" not in data or "document" not in data:
            errors.append(SeedError("expected a mapping with 'document' and 'figures'", path, 1))
            continue
        doc = by_id.get(data["document"]) if isinstance(data["document"], str) else None
        if doc is None:
            errors.append(data.error(f"unknown document {data['document']!r}", "document"))
            continue
        if not isinstance(data["figures"], list):
            errors.append(data.error("expected a list", "figures"))
            continue
        index = indexes.setdefault(doc.id, QuoteIndex(doc))
        for i, entry in enumerate(data["figures"]):
            line = item_line(data["figures"], i, data.line_of("figures"))
            try:
                fig = _figure(entry, doc, index, registry, vocab, default_units, path, line)
            except SeedError as e:
                errors.append(e)
                continue
            first = seen.get(fig.dimensions)
            if first is not None:
                errors.append(entry.error(
                    f"the same indicator, area, period and breakdown from the same passage as the figure at "
                    f"{first.where.file.name}:{first.where.line} (a repeat of it goes under `also`)", "indicator"))
                continue
            seen[fig.dimensions] = fig
            out.append(fig)
    if errors:
        raise SeedErrors(errors)
    return out


def _default_units(ontology: Ontology) -> dict[str, str]:
    prop = ontology.iri("defaultUnit")
    unit_prefix = ontology.namespace.replace("ontology#", "id/unit/")
    ind_prefix = ontology.namespace.replace("ontology#", "id/indicator/")
    return {str(s)[len(ind_prefix):]: str(o)[len(unit_prefix):]
            for s, o in ontology.graph.subject_objects(prop) if str(s).startswith(ind_prefix)}


def _figure(entry: Any, doc: Document, index: QuoteIndex, registry: Registry, vocab: dict[str, set[str]],
            default_units: dict[str, str], path: Path, line: int | None) -> Figure:
    if not isinstance(entry, Located):
        raise SeedError("each figure must be a mapping", path, line)
    unknown = set(entry) - FIELDS
    if unknown:
        raise entry.error(f"unknown field; allowed: {sorted(FIELDS)}", sorted(unknown, key=str)[0])
    for name in REQUIRED:
        if entry.get(name) is None or entry.get(name) == "":
            raise entry.error("required", name)
    indicator = entry["indicator"]
    if not isinstance(indicator, str) or indicator not in vocab["indicator"]:
        raise entry.error(f"unknown indicator {indicator!r} (see mdkg:Indicators in ontology/figures.ttl)",
                          "indicator")
    unit = entry.get("unit", default_units.get(indicator))
    if not isinstance(unit, str) or unit not in vocab["unit"]:
        raise entry.error(f"unknown unit {unit!r}; one of {sorted(vocab['unit'])}", "unit")
    area, area_kind = _area(entry, registry, vocab["area"])
    try:
        period = parse_period(entry["period"])
    except ValueError as e:
        raise entry.error(str(e), "period") from None
    qualifiers = entry.get("qualifiers") or []
    if not isinstance(qualifiers, list) or not all(isinstance(q, str) for q in qualifiers):
        raise entry.error("expected a list of qualifier slugs", "qualifiers")
    for q in qualifiers:
        if q not in vocab["qualifier"]:
            raise entry.error(f"unknown qualifier {q!r}; one of {sorted(vocab['qualifier'])}", "qualifiers")
    if len(set(qualifiers)) != len(qualifiers):
        raise entry.error("a qualifier is listed twice", "qualifiers")
    _check_period(entry, doc, period, qualifiers)
    value = _number(entry, "value")
    upper = _number(entry, "upper") if entry.get("upper") is not None else None
    for name, v in (("value", value), ("upper", upper)):
        if v is None:
            continue
        if v < 0:
            raise entry.error(f"{v} is negative; figures are magnitudes (say a fall with the indicator)", name)
        if unit in WHOLE_UNITS and v != v.to_integral_value():
            raise entry.error(f"{v} is not a whole number of {unit}s", name)
    if upper is not None and upper <= value:
        raise entry.error(f"the top of the range ({upper}) must be above the value ({value})", "upper")
    breakdown = entry.get("breakdown", "total")
    if not isinstance(breakdown, str) or not _SLUG.fullmatch(breakdown):
        raise entry.error("expected a lower-case slug", "breakdown")
    quote = entry["quote"]
    if not isinstance(quote, str) or not quote.strip():
        raise entry.error("required: the verbatim text that states the figure", "quote")
    passages = index.find(quote)
    if passages is None:
        raise entry.error(f"quote not found in {doc.path.name}: {quote[:80]!r}", "quote")
    numbers = written_numbers(quote)
    for name, v in (("value", value), ("upper", upper)):
        if v is not None and not any(w.matches(v) for w in numbers):
            raise entry.error(f"{v} is not written in the quote (it writes {_show(numbers)})", name)
    also = []
    extra = entry.get("also") or []
    if not isinstance(extra, list) or not all(isinstance(q, str) and q.strip() for q in extra):
        raise entry.error("expected a list of further quotes of the same figure", "also")
    for q in extra:
        found = index.find(q)
        if found is None:
            raise entry.error(f"quote not found in {doc.path.name}: {q[:80]!r}", "also")
        if not any(w.matches(value) for w in written_numbers(q)):
            raise entry.error(f"{value} is not written in the quote {q[:60]!r}", "also")
        also.append((q, found))
    note = entry.get("note")
    if note is not None and (not isinstance(note, str) or not note.strip()):
        raise entry.error("expected a non-empty string", "note")
    return Figure(doc, indicator, area, area_kind, period, value, unit, quote, passages, entry, upper,
                  list(qualifiers), breakdown, also, note)


def _area(entry: Located, registry: Registry, areas: set[str]) -> tuple[str, str]:
    ref = entry["area"]
    if not isinstance(ref, str):
        raise entry.error("expected an ISO3 code, a registry id or an area slug", "area")
    kind = registry.kind_of(ref)
    if kind is not None:
        if ref in areas:
            raise entry.error(f"{ref!r} is both a registry id and an area of mdkg:Areas", "area")
        return ref, kind
    if ref in areas:
        return ref, "Area"
    raise entry.error(f"unknown area {ref!r} (not an ISO3 state code, a registry id nor an area of mdkg:Areas)",
                      "area")


def _check_period(entry: Located, doc: Document, period: Period, qualifiers: list[str]) -> None:
    if period.start.year < 1800:
        raise entry.error(f"impossible period {period.text!r}: before 1800", "period")
    date = doc.meta.get("date") if isinstance(doc.meta, dict) else None
    if date is None or FORWARD_QUALIFIERS & set(qualifiers):
        return
    _, doc_end = _bounds(str(date))
    if period.start > doc_end:
        raise entry.error(f"impossible period {period.text!r}: after the document's date {date} (a figure about "
                          "the future needs the qualifier projected or target)", "period")


def _number(entry: Located, name: str) -> Decimal:
    raw = entry[name]
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise entry.error(f"{raw!r} is not a number", name)
    try:
        value = Decimal(str(raw).replace("_", ""))
    except InvalidOperation:
        raise entry.error(f"{raw!r} is not a number", name) from None
    if not value.is_finite():
        raise entry.error(f"{raw!r} is not a number", name)
    return value


def _show(numbers: list[Written]) -> str:
    shown = sorted({format(w.value.normalize(), "f") if not w.fraction else f"{float(w.value):.4g} (fraction)"
                    for w in numbers})
    return ", ".join(shown[:12]) if shown else "no number"


# -- RDF -------------------------------------------------------------------------------------------------------
def dataset_iri(settings: Settings) -> URIRef:
    return settings.ns.ID["dataset/figures"]


def area_iri(settings: Settings, fig_area: str, kind: str) -> URIRef:
    if kind == "State":
        return settings.ns.state(fig_area)
    if kind == "Area":
        return settings.ns.ID[f"area/{fig_area}"]
    return settings.ns.entity(fig_area)


def emit(ds: Dataset, settings: Settings, figures: list[Figure],
         passage_ids: dict[tuple[str, int], str] | None = None) -> None:
    """The data set description into graph `figures`, each observation into its document's graph. Passages are
    named by their kept ids (ingest/ids.py), in the figures' IRIs too, so that editing a document elsewhere
    changes neither."""
    ns, M = settings.ns, settings.ns.MDKG
    kept = passage_ids or {}

    def passage(doc_id: str, n: int) -> URIRef:
        return ns.ID[f"doc/{doc_id}/{kept.get((doc_id, n), f'p{n}')}"]

    def key(f: Figure) -> str:
        dims = (*f.dimensions[:4], f"{f.doc.id}/{kept.get((f.doc.id, f.passage.n), f'p{f.passage.n}')}")
        return hashlib.sha1(json.dumps(dims).encode()).hexdigest()[:12]

    dataset = dataset_iri(settings)
    g = ds.graph(ns.graph("figures"))
    g.add((dataset, RDF.type, QB.DataSet))
    g.add((dataset, QB.structure, M.figuresStructure))
    g.add((dataset, RDFS.label, Literal("figures of the seed documents", lang="en")))
    g.add((dataset, DCTERMS.title, Literal("mdkg figures: the seed documents' quantitative statements", lang="en")))
    g.add((dataset, DCTERMS.description, Literal(
        "Every quantitative statement of the seed documents (migrant stocks, remittances, shares, counts of "
        "ratifications, participants, projections) as a Data Cube observation with its indicator, area, period, "
        "unit, qualifiers and the verbatim quote of the passage that states it.", lang="en")))
    for doc_id in sorted({f.doc.id for f in figures}):
        g.add((dataset, DCTERMS.source, ns.doc(doc_id)))
    curators, build = ns.ID["agent/curators"], ns.ID["activity/build"]
    for f in figures:
        obs = ns.ID[f"figure/{key(f)}"]
        d = ds.graph(ns.graph(f"doc/{f.doc.id}"))
        d.add((obs, RDF.type, QB.Observation))
        d.add((obs, QB.dataSet, dataset))
        d.add((obs, M.indicator, ns.ID[f"indicator/{f.indicator}"]))
        d.add((obs, SDMX_DIMENSION.refArea, area_iri(settings, f.area, f.area_kind)))
        d.add((obs, SDMX_DIMENSION.refPeriod, f.period.literal))
        d.add((obs, M.breakdown, Literal(f.breakdown)))
        d.add((obs, M.statedIn, passage(f.doc.id, f.passage.n)))
        d.add((obs, SDMX_MEASURE.obsValue, Literal(f.value, datatype=XSD.decimal)))
        if f.upper is not None:
            d.add((obs, M.upperValue, Literal(f.upper, datatype=XSD.decimal)))
        d.add((obs, SDMX_ATTRIBUTE.unitMeasure, ns.ID[f"unit/{f.unit}"]))
        for q in f.qualifiers:
            d.add((obs, M.qualifier, ns.ID[f"qualifier/{q}"]))
        d.add((obs, M.periodStart, Literal(f.period.start, datatype=XSD.date)))
        if f.period.end is not None:
            d.add((obs, M.periodEnd, Literal(f.period.end, datatype=XSD.date)))
        upper = f"–{format(f.upper, 'f')}" if f.upper is not None else ""
        d.add((obs, RDFS.label, Literal(
            f"{f.indicator}, {f.area}, {f.period.text}: {format(f.value, 'f')}{upper} {f.unit}", lang="en")))
        for quote, passages in [(f.quote, f.passages), *f.also]:
            d.add((obs, M.quote, Literal(" ".join(quote.split()), lang="en")))
            for p in passages:
                d.add((obs, PROV.wasDerivedFrom, passage(f.doc.id, p.n)))
        d.add((obs, DCTERMS.source, ns.doc(f.doc.id)))
        date = f.doc.meta.get("date") if isinstance(f.doc.meta, dict) else None
        if date is not None:
            d.add((obs, M.documentDate, parse_partial_date(date)))
        if f.note:  # a curator's note: editorial, not a description (SKOS; issue 14)
            d.add((obs, SKOS.editorialNote, Literal(f.note, lang="en")))
        d.add((obs, PROV.wasAttributedTo, curators))
        d.add((obs, PROV.wasGeneratedBy, build))
    g.add((ns.graph("figures"), PROV.wasGeneratedBy, build))
