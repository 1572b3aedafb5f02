"""Links out: the identifiers other datasets use for our things, each from a named source (seeds/links/).

- `wikidata-states.csv`: ISO 3166-1 alpha-3 -> Wikidata item, extracted from Our World in Data's
  CountriesRegions table (seeds/links/SOURCES.md). A state of the reference set gets `owl:sameAs wd:Q…` when the
  table lists its ISO3 code; a state the table does not list (the ISO 3166-3 former states) gets none.
- ISO 3166 and UN M49: what the reference data already says, as links. A state with an ISO 3166-1 alpha-2 code
  gets `rdfs:seeAlso` the ISO Online Browsing Platform page of that code; the mdkg code properties are declared
  equivalent to Wikidata's (ontology/mdkg.ttl), so `?s mdkg:iso3166Alpha3 "PHL"` joins with `wdt:P298`.
- `public-sources.csv`: the public address of each working copy a seed file quotes from, so that no local path
  reaches the graph.

Everything goes into the named graph `{base}graph/links`; VoID describes it as linksets (api/service.py)."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from rdflib import DCTERMS, OWL, RDF, RDFS, XSD, Dataset, Literal, Namespace, URIRef

from ingest.errors import SeedError, SeedErrors
from ingest.states import reference_states
from mdkg.settings import Settings

WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"
ISO_OBP = "https://www.iso.org/obp/ui/#iso:code:3166:"
WIKIDATA_FILE = "wikidata-states.csv"
PUBLIC_SOURCES_FILE = "public-sources.csv"
DATASET_FILE = "dataset.yaml"
VOID = Namespace("http://rdfs.org/ns/void#")
_ISO3 = re.compile(r"^[A-Z]{3}$")
_QID = re.compile(r"^Q[1-9][0-9]*$")


@dataclass(frozen=True)
class StateLink:
    iso3: str
    wikidata: str
    line: int


def _rows(path: Path, columns: list[str]) -> list[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or list(reader.fieldnames[: len(columns)]) != columns:
            raise SeedError(f"expected the columns {','.join(columns)}", path, 1)
        return [(reader.line_num, row) for row in reader]


def load_state_links(folder: Path) -> dict[str, StateLink]:
    """ISO3 -> Wikidata item; every row checked (`file:line: field: message`)."""
    path = folder / WIKIDATA_FILE
    out: dict[str, StateLink] = {}
    errors: list[SeedError] = []
    if not path.is_file():  # a seeds folder without links (test fixtures): no links, not an error
        return out
    for line, row in _rows(path, ["iso3", "wikidata"]):
        iso3, qid = (row.get("iso3") or "").strip(), (row.get("wikidata") or "").strip()
        if not _ISO3.match(iso3):
            errors.append(SeedError(f"{iso3!r} is not an ISO 3166-1 alpha-3 code", path, line, "iso3"))
        elif not _QID.match(qid):
            errors.append(SeedError(f"{qid!r} is not a Wikidata item id (Q123)", path, line, "wikidata"))
        elif iso3 in out:
            errors.append(SeedError(f"{iso3} listed twice (first at line {out[iso3].line})", path, line, "iso3"))
        else:
            out[iso3] = StateLink(iso3, qid, line)
    if errors:
        raise SeedErrors(errors)
    return out


@cache
def _public_sources(folder: Path) -> tuple[tuple[str, str], ...]:
    path = folder / PUBLIC_SOURCES_FILE
    out = []
    if not path.is_file():
        return ()
    for line, row in _rows(path, ["local", "public"]):
        local, public = (row.get("local") or "").strip(), (row.get("public") or "").strip()
        if not local or not public.startswith("https://"):
            raise SeedError("needs a local prefix and an https:// address", path, line, "public")
        out.append((local, public))
    return tuple(sorted(out, key=lambda x: -len(x[0])))


def public_source(quoted_from: str, folder: Path) -> str | None:
    """The public address of a file a seed quotes from (`raw/owner_repo/...`), or None if none is known."""
    for local, public in _public_sources(folder):
        if quoted_from.startswith(local):
            return public + quoted_from[len(local) :]
    return None


def load_dataset_terms(folder: Path) -> dict | None:
    path = folder / DATASET_FILE
    if not path.is_file():
        return None
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict) or not str(data.get("license", "")).startswith("https://"):
        raise SeedError("needs `license: https://...`", path, 1, "license")
    rights = data.get("rights") or []
    if not isinstance(rights, list) or not all(isinstance(r, str) and r.strip() for r in rights):
        raise SeedError("expected a list of non-empty strings", path, 1, "rights")
    return {"license": data["license"], "rights": rights}


def emit(ds: Dataset, settings: Settings) -> dict[str, int]:
    """State links, and `{base}id/dataset`: the dataset's licence, the terms of its sources and its linksets."""
    ns = settings.ns
    g = ds.graph(ns.graph("links"))
    folder = settings.seeds / "links"
    links = load_state_links(folder)
    counts = {"wikidata_states": 0, "iso_pages": 0}
    for iso3, rec in reference_states(settings).items():
        node = ns.state(iso3)
        link = links.get(iso3)
        if link is not None:
            g.add((node, OWL.sameAs, URIRef(WIKIDATA_ENTITY + link.wikidata)))
            counts["wikidata_states"] += 1
        if rec.iso2:
            g.add((node, RDFS.seeAlso, URIRef(ISO_OBP + rec.iso2)))
            counts["iso_pages"] += 1
    dataset = ns.ID["dataset"]
    terms = load_dataset_terms(folder)
    if terms is None:
        return counts
    g.add((dataset, RDF.type, VOID.Dataset))
    g.add((dataset, RDFS.label, Literal("mdkg: the migration-and-development knowledge graph", lang="en")))
    g.add((dataset, DCTERMS.license, URIRef(terms["license"])))
    for text in terms["rights"]:
        g.add((dataset, DCTERMS.rights, Literal(" ".join(text.split()), lang="en")))
    g.add((dataset, VOID.uriSpace, Literal(ns.base)))
    for name, target, predicate, n, label in (
        (
            "wikidata",
            "https://www.wikidata.org/",
            OWL.sameAs,
            counts["wikidata_states"],
            "states to Wikidata items (source: Our World in Data, CountriesRegions)",
        ),
        (
            "iso-3166",
            "https://www.iso.org/obp/",
            RDFS.seeAlso,
            counts["iso_pages"],
            "states to their ISO 3166-1 code pages on the ISO Online Browsing Platform",
        ),
    ):
        linkset = ns.ID[f"dataset/linkset/{name}"]
        g.add((dataset, VOID.subset, linkset))
        g.add((linkset, RDF.type, VOID.Linkset))
        g.add((linkset, RDFS.label, Literal(label, lang="en")))
        g.add((linkset, VOID.subjectsTarget, dataset))
        g.add((linkset, VOID.objectsTarget, URIRef(target)))
        g.add((linkset, VOID.linkPredicate, predicate))
        g.add((linkset, VOID.triples, Literal(n, datatype=XSD.integer)))
    return counts
