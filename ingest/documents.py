"""Stage 1: seed documents -> catalogue entries and passages with stable ordinals and line ranges.

A passage is a maximal run of non-empty lines (the seeds have one paragraph per line; a hard-wrapped document
gets one passage per paragraph). Its ordinal is stable as long as the text before it does not change."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from ingest.dates import parse_partial_date
from ingest.errors import SeedError
from ingest.yamlio import Located, item_line, load_yaml

CATALOGUE_FIELDS = {"id", "file", "title", "creators", "publisher", "date", "place", "kind", "note", "quotes"}
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


@dataclass(frozen=True)
class Passage:
    doc_id: str
    n: int
    start_line: int
    end_line: int
    start: int  # character offset of the passage in the document text
    text: str


@dataclass
class Document:
    id: str
    path: Path
    text: str
    sha256: str
    meta: Located | dict = field(default_factory=dict)
    passages: list[Passage] = field(default_factory=list)

    def passage_at(self, offset: int) -> Passage:
        """The passage containing character offset `offset` (bisect over passage starts)."""
        lo, hi = 0, len(self.passages) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.passages[mid].start <= offset:
                lo = mid
            else:
                hi = mid - 1
        return self.passages[lo]


def read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        bad = data[e.start:e.start + 1]
        raise SeedError(f"not valid UTF-8 (byte {e.start}: {bad!r})", path, line) from None
    return text.replace("\r\n", "\n").lstrip("\ufeff")


def split_passages(doc_id: str, text: str) -> list[Passage]:
    passages: list[Passage] = []
    block: list[tuple[int, int, str]] = []  # (line number, offset, line)
    offset = 0

    def flush() -> None:
        if block:
            first, last = block[0], block[-1]
            body = text[first[1]: last[1] + len(last[2])]
            passages.append(Passage(doc_id, len(passages) + 1, first[0], last[0], first[1], body))
            block.clear()

    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            block.append((number, offset, line))
        else:
            flush()
        offset += len(line) + 1
    flush()
    return passages


def load_catalogue(path: Path) -> dict[str, Located]:
    if not path.exists():
        return {}
    entries = load_yaml(path) or []
    if not isinstance(entries, list):
        raise SeedError("expected a list of documents", path, 1)
    by_file: dict[str, Located] = {}
    ids: set[str] = set()
    for i, entry in enumerate(entries):
        if not isinstance(entry, Located):
            raise SeedError("each document must be a mapping", path, item_line(entries, i, 1))
        for key in ("id", "file", "title"):
            if not entry.get(key):
                raise entry.error("missing", key)
        unknown = set(entry) - CATALOGUE_FIELDS
        if unknown:
            raise entry.error(f"unknown field(s) {sorted(unknown, key=str)}", sorted(unknown, key=str)[0])
        if not isinstance(entry["id"], str) or not _SLUG.fullmatch(entry["id"]):
            raise entry.error(f"id {entry['id']!r} must be a lower-case slug", "id")
        for key in ("file", "title", "publisher", "place", "kind", "note"):
            if entry.get(key) is not None and (not isinstance(entry[key], str) or not entry[key].strip()):
                raise entry.error("expected a non-empty string", key)
        creators = entry.get("creators")
        if creators is not None and (not isinstance(creators, list)
                                     or not all(isinstance(c, str) and c.strip() for c in creators)):
            raise entry.error("expected a list of registry ids or names", "creators")
        if entry.get("date") is not None:
            try:
                parse_partial_date(entry["date"])
            except ValueError as e:
                raise entry.error(str(e), "date") from None
        if entry["id"] in ids:
            raise entry.error(f"duplicate document id {entry['id']!r}", "id")
        if entry["file"] in by_file:
            first = by_file[entry["file"]].line
            raise entry.error(f"{entry['file']} is catalogued twice (first at line {first})", "file")
        ids.add(entry["id"])
        by_file[entry["file"]] = entry
    return by_file


def load_documents(seeds: Path) -> list[Document]:
    """Every .txt under seeds/documents, with its catalogue entry if it has one."""
    folder = seeds / "documents"
    catalogue = load_catalogue(seeds / "documents.yaml")
    catalogued_ids = {entry["id"]: entry for entry in catalogue.values()}
    uncatalogued: dict[str, Path] = {}
    docs = []
    for path in sorted(folder.glob("*.txt")):
        meta = catalogue.pop(path.name, None)
        text = read_text(path)
        doc_id = meta["id"] if meta else _slug(path.stem)
        if not meta:  # the id comes from the file name: it must be one and no other document's
            if not doc_id:
                raise SeedError("no catalogue entry, and the file name gives no id (it needs a-z or 0-9)", path)
            other = catalogued_ids.get(doc_id)
            if other is not None or doc_id in uncatalogued:
                first = f"{other.file}:{other.line}" if other is not None else uncatalogued[doc_id].name
                raise SeedError(f"no catalogue entry, and the id from the file name, {doc_id!r}, is taken "
                                f"(by {first})", path)
            uncatalogued[doc_id] = path
        doc = Document(doc_id, path, text, hashlib.sha256(text.encode()).hexdigest(),
                       meta or {"id": doc_id, "title": path.name})
        doc.passages = split_passages(doc_id, text)
        if meta:
            _check_quotes(meta, text)
        docs.append(doc)
    for name, entry in catalogue.items():
        raise entry.error(f"no such file documents/{name}", "file")
    return docs


def _check_quotes(entry: Located, text: str) -> None:
    """The catalogue's `quotes` prove its fields: each must occur in the document (white space may differ)."""
    quotes = entry.get("quotes") or []
    if not isinstance(quotes, list) or not all(isinstance(q, str) and q.strip() for q in quotes):
        raise entry.error("expected a list of quotes from the document", "quotes")
    flat = " ".join(text.split())
    for quote in quotes:
        if " ".join(quote.split()) not in flat:
            raise entry.error(f"quote not found in {entry['file']}: {quote[:80]!r}", "quotes")


def _slug(stem: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
