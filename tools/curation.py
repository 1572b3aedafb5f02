"""Curators' tool: fold per-document curation folders (seeds/curation/<doc>/registry.yaml and assertions.yaml,
format in seeds/curation/BRIEF.md) into the build's seed layout, and check them with the real ingest stages.

  python tools/curation.py check [--only DIR]   merge into a temporary seeds folder and run every stage
  python tools/curation.py merge                write seeds/registry/entities.yaml, seeds/registry/states.yaml,
                                                seeds/assertions/<doc>.yaml and seeds/documents.yaml

Entities defined in several folders are united: aliases, acronyms and themes are joined; for other fields the
first folder (in name order) wins and every disagreement is printed for a curator to settle."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SEEDS = ROOT / "seeds"
FILES = {  # document id -> seed file
    "bakewell-bellagio": "000_2aeaeb87183a6bb7.txt",
    "iom-idm-2005": "001_f469910f4dd50a5f.txt",
    "gfmd-csd-2007": "002_dfeafc72ae11eb25.txt",
    "delgado-wise-castles": "003_410385bd79486c5a.txt",
    "south-centre-2006": "004_e445566e33997e6b.txt",
}
LISTS = ("aliases", "acronyms", "themes")
ORDER = ["id", "kind", "name", "aliases", "acronyms", "state", "part_of", "themes", "date", "place", "wikidata",
         "note"]


def _plain(value):
    """Dates stay strings, as the ingest reads them."""
    return yaml.load(yaml.safe_dump(value), Loader=_StrDates)


class _StrDates(yaml.SafeLoader):
    pass


_StrDates.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


def _load(path: Path):
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_StrDates)


def gather(folders: list[Path]) -> tuple[list, list, dict, dict, list[str]]:
    existing = {e["id"] for p in (SEEDS / "registry").glob("*.yaml") if p.name not in {"entities.yaml", "states.yaml"}
                for e in (_load(p) or []) if "id" in e}
    entities: dict[str, dict] = {}
    states: dict[str, dict] = {}
    documents: dict[str, dict] = {}
    assertions: dict[str, list] = defaultdict(list)
    notes: list[str] = []
    for folder in folders:
        reg = folder / "registry.yaml"
        if reg.exists():
            data = _load(reg) or {}
            doc = data.get("document")
            if doc and doc.get("id") and doc["id"] not in documents:
                documents[doc["id"]] = doc
            for e in data.get("entities") or []:
                if e.get("id") in existing:
                    notes.append(f"{folder.name}: {e['id']} is defined in seeds/registry already; entry dropped "
                                 f"(aliases {e.get('aliases')}, acronyms {e.get('acronyms')})")
                    continue
                _unite(entities, e, folder.name, notes)
            for s in data.get("states") or []:
                cur = states.setdefault(s["iso3"], {"iso3": s["iso3"]})
                for key in ("aliases", "demonyms"):
                    merged = list(dict.fromkeys([*(cur.get(key) or []), *(s.get(key) or [])]))
                    if merged:
                        cur[key] = merged
        ass = folder / "assertions.yaml"
        if ass.exists():
            data = _load(ass) or {}
            assertions[data["document"]].extend(data.get("assertions") or [])
    return list(entities.values()), list(states.values()), documents, dict(assertions), notes


def _unite(entities: dict[str, dict], e: dict, origin: str, notes: list[str]) -> None:
    cur = entities.get(e["id"])
    if cur is None:
        entities[e["id"]] = {k: e[k] for k in ORDER if e.get(k) not in (None, [], "")}
        return
    for key in LISTS:
        merged = list(dict.fromkeys([*(cur.get(key) or []), *(e.get(key) or [])]))
        if merged:
            cur[key] = merged
    for key in ("kind", "name", "state", "part_of", "date", "place"):
        if e.get(key) and cur.get(key) and str(e[key]) != str(cur[key]):
            if key == "name":
                cur.setdefault("aliases", [])
                if e["name"] not in cur["aliases"]:
                    cur["aliases"].append(e["name"])
            else:
                notes.append(f"{origin}: {e['id']}.{key} = {e[key]!r} differs from {cur[key]!r}; kept the latter")
        elif e.get(key) and not cur.get(key):
            cur[key] = e[key]


def write(target: Path, entities, states, documents, assertions) -> None:
    (target / "registry").mkdir(parents=True, exist_ok=True)
    (target / "assertions").mkdir(parents=True, exist_ok=True)
    order = {k: i for i, k in enumerate(ORDER)}
    entities = sorted(({k: v for k, v in sorted(e.items(), key=lambda kv: order[kv[0]])} for e in entities),
                      key=lambda e: (e["kind"], e["id"]))
    _dump(target / "registry" / "entities.yaml", entities,
          "# The authority file: every named stakeholder, instrument, process and person in the seed documents.\n"
          "# Format: seeds/README.md. Conventions with treaty records are in conventions.yaml.\n")
    _dump(target / "registry" / "states.yaml", sorted(states, key=lambda s: s["iso3"]),
          "# What the documents call states beyond their ISO names: aliases and demonyms (matched case-sensitively).\n")
    catalogue = []
    for doc_id, file in FILES.items():
        doc = documents.get(doc_id)
        if doc:
            entry = {"id": doc_id, "file": file}
            entry.update({k: v for k, v in doc.items() if k not in {"id", "file"} and v not in (None, [], "")})
            catalogue.append(entry)
    _dump(target / "documents.yaml", catalogue,
          "# The catalogue of seed documents; `quotes` are passages of each document that prove its fields.\n")
    for doc_id, items in sorted(assertions.items()):
        _dump(target / "assertions" / f"{doc_id}.yaml", {"document": doc_id, "assertions": items},
              f"# Curated relations stated in {FILES.get(doc_id, doc_id)}; each quote is checked verbatim by the build.\n")


def _dump(path: Path, data, header: str) -> None:
    text = yaml.safe_dump(_plain(data), sort_keys=False, allow_unicode=True, width=110)
    path.write_text(header + text, encoding="utf-8")


def check(entities, states, documents, assertions) -> int:
    from ingest.build import run_stages
    from ingest.errors import SeedError, SeedErrors
    from ingest.validate import ShapeViolations
    from mdkg.settings import Settings

    # The merged copy is kept so that a curator can open the file and line an error names.
    root = Path(tempfile.mkdtemp(prefix="mdkg-curation-"))
    print(f"merged copy: {root}")
    if True:
        for name in ("ontology", "shapes"):
            shutil.copytree(ROOT / name, root / name)
        seeds = root / "seeds"
        shutil.copytree(SEEDS / "documents", seeds / "documents")
        shutil.copytree(SEEDS / "treaties", seeds / "treaties")
        (seeds / "registry").mkdir(parents=True)
        for p in (SEEDS / "registry").glob("*"):
            if p.name not in {"entities.yaml", "states.yaml"}:
                shutil.copy(p, seeds / "registry" / p.name)
        write(seeds, entities, states, documents, assertions)
        try:
            ds, parts = run_stages(Settings(root=root, build_dir=root / "build"))
        except SeedErrors as e:
            for err in e.errors:
                print(f"error: {err}")
            return 1
        except (SeedError, ShapeViolations) as e:
            print(f"error: {e}")
            return 1
        print(f"ok: {len(parts['registry'].entities)} entities, {len(parts['assertions'])} assertions, "
              f"{len(parts['mentions'])} mentions, {len(parts['candidates'])} unresolved candidates")
        return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["check", "merge"])
    parser.add_argument("--only", action="append", help="curation folder name(s) to include (default: all)")
    args = parser.parse_args()
    folders = sorted(p for p in (SEEDS / "curation").iterdir() if p.is_dir())
    if args.only:
        folders = [p for p in folders if p.name in args.only]
    entities, states, documents, assertions, notes = gather(folders)
    for note in notes:
        print(f"note: {note}")
    if args.action == "check":
        return check(entities, states, documents, assertions)
    write(SEEDS, entities, states, documents, assertions)
    print(f"merged {len(folders)} folder(s): {len(entities)} entities, {len(states)} states, "
          f"{sum(map(len, assertions.values()))} assertions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
