"""IRIs that survive corrections: the ids of relationships and passages are kept in seed files (seeds/ids/).

Relationships: every assertion has an `id` (seeds/assertions/*.yaml), its IRI `{base}id/rel/{id}`. Correcting a
quote, a date or a note keeps it. `seeds/ids/relationships.csv` records what each id means (document, type and
participants); the build fails, naming the file and line, when an id is reused for another meaning. A relation that
changes meaning gets a new id, and `seeds/ids/redirects.csv` sends the old IRI to the new one.

Passages: `seeds/ids/passages.csv` records each passage's id (`p12`) with the SHA-1 of its text (white space
folded). The build aligns a document's passages with the register: an unchanged passage keeps its id wherever it
moved; a passage edited in place (between the same unchanged neighbours) keeps its id too; a new passage gets the
next free number. So inserting a paragraph no longer renumbers the rest. An assertion without an id, or a passage
not in the register, still gets an IRI (the content hash, the aligned id); `python -m ingest.ids` writes the
missing ids into the seed files, and tests/test_ids.py fails while any is missing.

The check of meanings and the alignment are plain functions of the seed files: the build never writes seeds."""

from __future__ import annotations

import csv
import difflib
import hashlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import SeedError, SeedErrors

RELATIONSHIPS_FILE = "relationships.csv"
PASSAGES_FILE = "passages.csv"
REDIRECTS_FILE = "redirects.csv"
REL_COLUMNS = ["id", "document", "type", "meaning"]
PASSAGE_COLUMNS = ["document", "id", "sha1"]
REDIRECT_COLUMNS = ["old", "new"]
ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
PASSAGE_ID = re.compile(r"^p([1-9][0-9]*)$")


def text_sha1(text: str) -> str:
    return hashlib.sha1(" ".join(text.split()).encode("utf-8")).hexdigest()


def meaning(values: dict) -> str:
    """What a relationship says, without its evidence: the participants and qualifiers, canonical JSON (the order
    in which a list names the partners does not matter)."""
    values = {k: sorted(map(str, v)) if isinstance(v, list) else v for k, v in values.items()}
    return json.dumps(values, sort_keys=True, default=str, ensure_ascii=False, separators=(",", ":"))


def _read(path: Path, columns: list[str]) -> list[tuple[int, dict[str, str]]]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != columns:
            raise SeedError(f"expected the columns {','.join(columns)}", path, 1)
        return [(reader.line_num, {k: (v or "").strip() for k, v in row.items()}) for row in reader]


# ---------------------------------------------------------------------------------------------- relationships
@dataclass(frozen=True)
class Kept:
    id: str
    document: str
    type: str
    meaning: str
    line: int


def load_relationship_register(folder: Path) -> dict[str, Kept]:
    path = folder / RELATIONSHIPS_FILE
    out: dict[str, Kept] = {}
    errors = []
    for line, row in _read(path, REL_COLUMNS):
        if not ID.match(row["id"]):
            errors.append(SeedError(f"{row['id']!r} is not an id (a-z, 0-9, -)", path, line, "id"))
        elif row["id"] in out:
            errors.append(
                SeedError(f"{row['id']} listed twice (first at line {out[row['id']].line})", path, line, "id")
            )
        else:
            out[row["id"]] = Kept(row["id"], row["document"], row["type"], row["meaning"], line)
    if errors:
        raise SeedErrors(errors)
    return out


def check_relationships(folder: Path, assertions: list) -> list:
    """Errors for duplicate ids and for ids whose meaning differs from the register; returns the assertions that
    have no id yet (they get the content hash)."""
    register = load_relationship_register(folder)
    seen: dict[str, object] = {}
    errors: list[SeedError] = []
    missing = []
    for a in assertions:
        if a.id is None:
            missing.append(a)
            continue
        where = a.where
        if a.id in seen:
            first = seen[a.id].where
            errors.append(where.error(f"duplicate id {a.id!r} (first at {first.file.name}:{first.line})", "id"))
            continue
        seen[a.id] = a
        kept = register.get(a.id)
        now = meaning(a.values)
        if kept is not None and (kept.document, kept.type, kept.meaning) != (a.doc.id, a.type, now):
            errors.append(
                where.error(
                    f"id {a.id!r} meant {kept.type} {kept.meaning} in {kept.document} ({RELATIONSHIPS_FILE} line "
                    f"{kept.line}); it now says {a.type} {now} in {a.doc.id}. An id never changes meaning: give this "
                    f"relation a new id and map the old one in {REDIRECTS_FILE}",
                    "id",
                )
            )
    if errors:
        raise SeedErrors(errors)
    return missing


# ---------------------------------------------------------------------------------------------- passages
def load_passage_register(folder: Path) -> dict[str, list[tuple[str, str]]]:
    """document -> [(id, sha1)] in register order."""
    path = folder / PASSAGES_FILE
    out: dict[str, list[tuple[str, str]]] = {}
    ids: dict[tuple[str, str], int] = {}
    errors = []
    for line, row in _read(path, PASSAGE_COLUMNS):
        key = (row["document"], row["id"])
        if not PASSAGE_ID.match(row["id"]):
            errors.append(SeedError(f"{row['id']!r} is not a passage id (p1, p2, ...)", path, line, "id"))
        elif not re.fullmatch(r"[0-9a-f]{40}", row["sha1"]):
            errors.append(SeedError("expected the 40 hex digits of a SHA-1", path, line, "sha1"))
        elif key in ids:
            errors.append(
                SeedError(f"{row['id']} of {row['document']} listed twice (first at line {ids[key]})", path, line, "id")
            )
        else:
            ids[key] = line
            out.setdefault(row["document"], []).append((row["id"], row["sha1"]))
    if errors:
        raise SeedErrors(errors)
    return out


def align(registered: list[tuple[str, str]], texts: list[str]) -> list[str]:
    """The id of each passage (`texts`, in document order) given the register of its document."""
    if not registered:
        return [f"p{n}" for n in range(1, len(texts) + 1)]
    shas = [text_sha1(t) for t in texts]
    old = [sha for _, sha in registered]
    out: list[str | None] = [None] * len(texts)
    matcher = difflib.SequenceMatcher(a=old, b=shas, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                out[j1 + k] = registered[i1 + k][0]
        elif tag == "replace":  # edited in place: the k-th old passage of the block becomes the k-th new one
            for k in range(min(i2 - i1, j2 - j1)):
                out[j1 + k] = registered[i1 + k][0]
    used = {int(PASSAGE_ID.match(i).group(1)) for i, _ in registered}
    next_n = max(used, default=0) + 1
    for j, value in enumerate(out):
        if value is None:
            out[j] = f"p{next_n}"
            next_n += 1
    return out  # type: ignore[return-value]


def passage_ids(folder: Path, docs: list) -> dict[tuple[str, int], str]:
    """(document id, ordinal) -> passage id, for every passage of every document."""
    register = load_passage_register(folder)
    out = {}
    for doc in docs:
        ids = align(register.get(doc.id, []), [p.text for p in doc.passages])
        for p, pid in zip(doc.passages, ids, strict=True):
            out[(doc.id, p.n)] = pid
    return out


def load_redirects(folder: Path) -> dict[str, str]:
    path = folder / REDIRECTS_FILE
    return {row["old"]: row["new"] for _, row in _read(path, REDIRECT_COLUMNS) if row["old"] and row["new"]}


# ---------------------------------------------------------------------------------------------- the writer
def _insert_ids(assertions: list) -> int:
    """Write `id: <content hash>` into each assertion that has none, as its first line after `- type:`."""
    by_file: dict[Path, list] = {}
    for a in assertions:
        by_file.setdefault(a.where.file, []).append(a)
    for path, items in by_file.items():
        lines = path.read_text(encoding="utf-8").split("\n")
        for a in sorted(items, key=lambda a: a.where.line, reverse=True):
            first = lines[a.where.line - 1]
            indent = len(first) - len(first.lstrip(" -")) if first.lstrip().startswith("- ") else None
            if indent is None:
                raise SeedError("cannot place an id here: expected `- type: ...`", path, a.where.line, "id")
            lines.insert(a.where.line, " " * indent + f"id: '{a.key}'")  # quoted: 12 digits read as a number
        path.write_text("\n".join(lines), encoding="utf-8")
    return sum(len(v) for v in by_file.values())


def write_registers(seeds: Path, docs: list, assertions: list) -> dict[str, int]:
    """Bring seeds/ids/ up to date with the seeds: record new relationship ids and the current passages; map the
    IRIs of passages that are gone to their document."""
    folder = seeds / "ids"
    folder.mkdir(exist_ok=True)
    register = load_relationship_register(folder)
    for a in assertions:
        if a.id is not None and a.id not in register:
            register[a.id] = Kept(a.id, a.doc.id, a.type, meaning(a.values), 0)
    with (folder / RELATIONSHIPS_FILE).open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(REL_COLUMNS)
        for k in sorted(register.values(), key=lambda k: (k.document, k.id)):
            w.writerow([k.id, k.document, k.type, k.meaning])
    old = load_passage_register(folder)
    redirects = load_redirects(folder)
    rows = []
    for doc in docs:
        ids = align(old.get(doc.id, []), [p.text for p in doc.passages])
        rows += [(doc.id, pid, text_sha1(p.text)) for p, pid in zip(doc.passages, ids, strict=True)]
        for gone in {i for i, _ in old.get(doc.id, [])} - set(ids):
            redirects.setdefault(f"doc/{doc.id}/{gone}", f"doc/{doc.id}")
    with (folder / PASSAGES_FILE).open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(PASSAGE_COLUMNS)
        w.writerows(rows)
    with (folder / REDIRECTS_FILE).open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(REDIRECT_COLUMNS)
        w.writerows(sorted(redirects.items()))
    return {"relationships": len(register), "passages": len(rows), "redirects": len(redirects)}


def main() -> int:
    """`python -m ingest.ids`: write missing assertion ids into seeds/assertions/*.yaml and update seeds/ids/."""
    from ingest.assertions import load_assertions
    from ingest.build import theme_slugs
    from ingest.documents import load_documents
    from ingest.ontology import load_ontology
    from ingest.registry import load_registry
    from ingest.states import reference_states
    from mdkg.settings import Settings

    settings = Settings.from_env()
    ontology = load_ontology(settings.ontology_dir, settings.ns.base)
    themes = theme_slugs(ontology)
    docs = load_documents(settings.seeds)
    registry = load_registry(settings.seeds / "registry", ontology, themes, reference_states(settings))

    def assertions():
        return load_assertions(settings.seeds / "assertions", docs, registry, ontology, themes)

    added = _insert_ids([a for a in assertions() if a.id is None])
    counts = write_registers(settings.seeds, docs, assertions())
    print(f"ids added to assertions: {added}; registers: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
