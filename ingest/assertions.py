"""Stage 4: curated assertions (seeds/assertions/*.yaml) -> checked relations, each anchored to the passage(s)
that hold its verbatim quote. Field rules come from ingest/assertion_types.yaml."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from ingest.dates import parse_partial_date
from ingest.documents import Document, Passage
from ingest.errors import SeedError, SeedErrors
from ingest.ontology import Ontology
from ingest.registry import Registry
from ingest.yamlio import Located, item_line, load_yaml

COMMON_FIELDS = {"id", "type", "quote", "start", "end", "themes", "note"}
REL_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
TYPES_FILE = Path(__file__).with_name("assertion_types.yaml")


@cache
def assertion_types() -> dict[str, dict[str, Any]]:
    return yaml.safe_load(TYPES_FILE.read_text(encoding="utf-8"))


@dataclass
class Assertion:
    doc: Document
    type: str
    values: dict[str, Any]  # field -> ref / [refs] / literal / date / int / {ref: role}
    quote: str
    passages: list[Passage]
    where: Located
    start: Any = None
    end: Any = None
    themes: list[str] = field(default_factory=list)
    note: str | None = None
    id: str | None = None  # kept in the seed file (ingest/ids.py); the IRI is {base}id/rel/{id}

    @property
    def spec(self) -> dict[str, Any]:
        return assertion_types()[self.type]

    @property
    def key(self) -> str:
        """The kept id; for an assertion that has none yet, an id from its content (not its position in the file),
        which `python -m ingest.ids` writes into the seed file."""
        if self.id is not None:
            return self.id
        canonical = json.dumps([self.doc.id, self.type, self.values, " ".join(self.quote.split())],
                               sort_keys=True, default=str)
        return hashlib.sha1(canonical.encode()).hexdigest()[:12]


class QuoteIndex:
    """Finds a quote in a document with runs of white space folded, and maps it back to passages."""

    def __init__(self, doc: Document):
        self.doc = doc
        chars, positions = [], []
        for m in re.finditer(r"\s+|\S", doc.text):
            chars.append(" " if m.group().isspace() else m.group())
            positions.append(m.start())
        self.text, self.positions = "".join(chars), positions

    def find(self, quote: str) -> list[Passage] | None:
        needle = " ".join(quote.split())
        at = self.text.find(needle) if needle else -1
        if at < 0:
            return None
        first = self.doc.passage_at(self.positions[at])
        last = self.doc.passage_at(self.positions[at + len(needle) - 1])
        return self.doc.passages[first.n - 1: last.n]


def load_assertions(folder: Path, docs: list[Document], registry: Registry, ontology: Ontology,
                    themes: set[str]) -> list[Assertion]:
    by_id = {d.id: d for d in docs}
    indexes: dict[str, QuoteIndex] = {}
    out: list[Assertion] = []
    errors: list[SeedError] = []
    for path in sorted(folder.glob("*.yaml")):
        data = load_yaml(path)
        if not isinstance(data, Located) or "assertions" not in data or "document" not in data:
            raise SeedError("expected a mapping with 'document' and 'assertions'", path, 1)
        doc = by_id.get(data["document"]) if isinstance(data["document"], str) else None
        if doc is None:
            errors.append(data.error(f"unknown document {data['document']!r}", "document"))
            continue
        index = indexes.setdefault(doc.id, QuoteIndex(doc))
        if not isinstance(data["assertions"], list):
            errors.append(data.error("expected a list", "assertions"))
            continue
        for i, entry in enumerate(data["assertions"]):
            try:
                line = item_line(data["assertions"], i, data.line_of("assertions"))
                out.append(_assertion(entry, doc, index, registry, ontology, themes, path, line))
            except SeedError as e:
                errors.append(e)
    if errors:
        raise SeedErrors(errors)
    return out


def _assertion(entry: Any, doc: Document, index: QuoteIndex, registry: Registry, ontology: Ontology,
               themes: set[str], path: Path, line: int | None = None) -> Assertion:
    if not isinstance(entry, Located):
        raise SeedError("each assertion must be a mapping", path, line)
    kind = entry.get("type")
    types = assertion_types()
    if not isinstance(kind, str) or kind not in types:
        raise entry.error(f"unknown type {kind!r}; one of {sorted(types)}", "type")
    spec = types[kind]["fields"]
    unknown = set(entry) - COMMON_FIELDS - set(spec)
    if unknown:
        raise entry.error(f"unknown field for {kind}; allowed: {sorted(COMMON_FIELDS | set(spec))}",
                          sorted(unknown, key=str)[0])
    quote = entry.get("quote")
    if not isinstance(quote, str) or not quote.strip():
        raise entry.error("required: the verbatim text that supports the assertion", "quote")
    passages = index.find(quote)
    if passages is None:
        raise entry.error(f"quote not found in {doc.path.name}: {quote[:80]!r}", "quote")
    values = {name: _field(entry, name, rule, doc, registry, ontology) for name, rule in spec.items()}
    values = {k: v for k, v in values.items() if v is not None}
    if not isinstance(entry.get("themes") or [], list):
        raise entry.error("expected a list of theme slugs", "themes")
    for theme in entry.get("themes") or []:
        if not isinstance(theme, str) or theme not in themes:
            raise entry.error(f"unknown theme {theme!r} (see ontology/themes.ttl)", "themes")
    if entry.get("note") is not None and not isinstance(entry["note"], str):
        raise entry.error("expected a string", "note")
    dates = {}
    for key in ("start", "end"):
        if entry.get(key) is not None:
            try:
                dates[key] = parse_partial_date(entry[key])
            except ValueError as e:
                raise entry.error(str(e), key) from None
    rel_id = entry.get("id")
    if rel_id is not None and (not isinstance(rel_id, str) or not REL_ID.match(rel_id)):
        raise entry.error(f"{rel_id!r} is not an id (lower-case a-z, 0-9, -; quote one that YAML reads as a number)",
                          "id")
    return Assertion(doc, kind, values, quote, passages, entry, dates.get("start"), dates.get("end"),
                     list(entry.get("themes") or []), entry.get("note"), rel_id)


def _field(entry: Located, name: str, rule: dict, doc: Document, registry: Registry,
           ontology: Ontology) -> Any:
    value = entry.get(name, rule.get("default"))
    if rule.get("date"):
        # A claim's date as precise as the document gives it: a full date, a month or a year.
        value = value if value is not None else _document_date(doc)
        if value is None:
            raise entry.error("a date is required (YYYY, YYYY-MM or YYYY-MM-DD) and the document has none",
                              name)
        try:
            return parse_partial_date(value)
        except ValueError as e:
            raise entry.error(str(e), name) from None
    if value is None:
        if rule.get("required"):
            raise entry.error(f"required for type {entry['type']}", name)
        return None
    if rule.get("integer"):
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise entry.error(f"{value!r} is not a non-negative whole number", name)
        return value
    if rule.get("literal") or rule.get("vocabulary"):
        if not isinstance(value, str) or not value.strip():
            raise entry.error("expected a non-empty string", name)
        allowed = ontology.concepts(rule["vocabulary"]) if rule.get("vocabulary") else None
        if allowed is not None and value.strip() not in allowed:
            raise entry.error(f"{value!r} is not one of {sorted(allowed)}", name)
        return value.strip()
    if "roles_of" in rule:
        if not isinstance(value, dict):
            raise entry.error("expected a mapping from a reference to a role", name)
        listed = entry.get(rule["roles_of"])
        listed = {str(ref) for ref in listed} if isinstance(listed, list) else set()
        for ref, role in value.items():
            if str(ref) not in listed:
                raise entry.error(f"{ref!r} is not one of the {rule['roles_of']}", name)
            if not isinstance(role, str) or not role.strip():
                raise entry.error(f"the role of {ref!r} must be a non-empty string", name)
        return {str(k): str(v) for k, v in value.items()}
    refs = value if rule.get("many") else [value]
    if rule.get("many") and not isinstance(value, list):
        raise entry.error("expected a list of references", name)
    if len(refs) < rule.get("min", 0):
        raise entry.error(f"needs at least {rule['min']} references", name)
    if len(set(map(str, refs))) != len(refs):
        raise entry.error("the same reference is listed twice", name)
    for ref in refs:
        _check_ref(entry, name, str(ref), rule.get("refers", []), registry, ontology)
    return [str(r) for r in refs] if rule.get("many") else str(value)


def _check_ref(entry: Located, name: str, ref: str, refers: list[str], registry: Registry,
               ontology: Ontology) -> None:
    kind = registry.kind_of(ref)
    if kind is None:
        raise entry.error(f"unknown reference {ref!r} (not a registry id nor a known ISO3 state code)", name)
    if refers and not any(ontology.is_a(kind, cls) for cls in refers):
        raise entry.error(f"{ref!r} is a {kind}; expected {' or '.join(refers)}", name)


def _document_date(doc: Document) -> Any:
    return doc.meta.get("date") if isinstance(doc.meta, dict) else None
