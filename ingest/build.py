"""`mdkg build`: run the stages in order and publish the result atomically.

Stages: documents -> registry -> mentions -> assertions -> emit -> validate. The output is written to a fresh
folder `build/runs/<stamp>/`; only when every stage has passed is the symlink `build/current` switched to it
(one rename, atomic on POSIX), so an interrupted or failed build never replaces the last good one."""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import shutil
import sys
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import click
import pyoxigraph as ox
from rdflib import DCTERMS, FOAF, OWL, RDF, RDFS, XSD, Dataset, Graph, URIRef
from rdflib.namespace import PROV, SKOS

from ingest.assertions import Assertion, load_assertions
from ingest.documents import Document, load_documents, read_text
from ingest.emit import emit_dataset
from ingest.errors import SeedError, SeedErrors
from ingest.figures import Figure, load_figures
from ingest.figures import emit as emit_figures
from ingest.ids import passage_ids
from ingest.inputs import FILE as INPUTS_FILE
from ingest.inputs import fingerprint, up_to_date
from ingest.mentions import Candidate, Mention, detect, unresolved_candidates
from ingest.ontology import Ontology, load_ontology
from ingest.registry import Registry, load_registry
from ingest.states import reference_states
from ingest.treaties import check_readable, treaty_folder
from ingest.validate import Finding, ShapeViolations, load_shapes, validate
from mdkg.settings import Settings

KEEP_RUNS = 3


@dataclass
class BuildResult:
    folder: Path
    dataset: Dataset
    docs: list[Document]
    registry: Registry
    mentions: list[Mention]
    assertions: list[Assertion]
    candidates: list[Candidate]
    ambiguous: dict[str, set[str]]
    findings: list[Finding]
    figures: list[Figure] = field(default_factory=list)
    class_counts: Counter = field(default_factory=Counter)
    seconds: float = 0.0


def theme_slugs(ontology: Ontology) -> set[str]:
    return ontology.concepts("theme")


def run_stages(settings: Settings) -> tuple[Dataset, dict]:
    """Every stage in memory; raises SeedError/SeedErrors/ShapeViolations on bad input."""
    started = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ontology = load_ontology(settings.ontology_dir, settings.ns.base)
    themes = theme_slugs(ontology)
    docs = load_documents(settings.seeds)
    check_readable(treaty_folder(settings))  # before the reference states read the treaty files
    registry = load_registry(settings.seeds / "registry", ontology, themes, reference_states(settings))
    mentions, ambiguous = detect(docs, registry)
    assertions = load_assertions(settings.seeds / "assertions", docs, registry, ontology, themes)
    ignore = _ignore_list(settings.seeds / "registry" / "not-entities.txt")
    candidates = unresolved_candidates(docs, mentions, ignore)
    figures = load_figures(settings.seeds / "figures", docs, registry, ontology)
    ds = emit_dataset(settings, ontology, docs, registry, mentions, assertions, started)
    emit_figures(ds, settings, figures, passage_ids(settings.seeds / "ids", docs))
    union = _union(ds)
    findings = validate(union, load_shapes(settings.shapes_dir, settings.ns.base), ontology.graph)
    violations = [f for f in findings if f.severity == "Violation"]
    if violations:
        raise ShapeViolations(violations)
    parts = dict(docs=docs, registry=registry, mentions=mentions, assertions=assertions, figures=figures,
                 candidates=candidates, ambiguous=ambiguous, findings=findings, union=union)
    return ds, parts


def _union(ds: Dataset) -> Graph:
    g = Graph()
    for s, p, o, _ in ds.quads((None, None, None, None)):
        g.add((s, p, o))
    return g


def _ignore_list(path: Path) -> set[str]:
    """Capitalised phrases a curator has looked at and decided are not entities (one per line, # comments)."""
    if not path.exists():
        return set()
    lines = (line.split("#", 1)[0].strip() for line in read_text(path).splitlines())  # SeedError if not UTF-8
    return {line for line in lines if line}


def build(settings: Settings) -> BuildResult:
    t0 = time.perf_counter()
    inputs = fingerprint(settings)  # before reading: a seed edited during the build makes the next one rebuild
    ds, parts = run_stages(settings)
    runs = settings.build_dir / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    tmp = runs / f".{stamp}.partial"
    tmp.mkdir()
    try:
        ds.serialize(destination=tmp / "mdkg.nq", format="nquads", encoding="utf-8")
        write_trig(tmp / "mdkg.nq", tmp / "mdkg.trig", settings)
        counts = class_counts(parts["union"], settings)
        _write_reports(tmp, parts, counts)
        copy_served(settings, tmp)
        (tmp / INPUTS_FILE).write_text(inputs + "\n")
        final = runs / stamp
        tmp.rename(final)
        _publish(settings.build_dir, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _prune(runs, keep=final)
    del parts["union"]
    return BuildResult(final, ds, class_counts=counts, seconds=time.perf_counter() - t0, **parts)


def copy_served(settings: Settings, folder: Path) -> None:
    """The shapes, queries and redirects this build was made with, into its folder: the server reads them there, so
    a build folder is all it needs (not the source tree it came from)."""
    served = replace(settings, resources=folder)
    for source, target in ((settings.queries_dir, served.queries_dir), (settings.shapes_dir, served.served_shapes_dir),
                           (settings.seeds / "ids" / "redirects.csv", served.redirects_file)):
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns(".*"))
        elif source.is_file():
            shutil.copy2(source, target)


def write_trig(nquads: Path, trig: Path, settings: Settings) -> None:
    """TriG with prefixes, written by Oxigraph: rdflib's pretty TriG serialiser takes a minute on this graph."""
    ns = settings.ns
    prefixes = {"mdkg": str(ns.MDKG), "id": str(ns.ID), "graph": str(ns.GRAPH), "state": str(ns.ID) + "state/",
                "rdfs": str(RDFS), "skos": str(SKOS), "dcterms": str(DCTERMS), "prov": str(PROV),
                "xsd": str(XSD), "owl": str(OWL), "org": "http://www.w3.org/ns/org#", "foaf": str(FOAF)}
    quads = ox.parse(path=str(nquads), format=ox.RdfFormat.N_QUADS)
    ox.serialize(quads, str(trig), format=ox.RdfFormat.TRIG, prefixes=prefixes)


def _publish(build_dir: Path, run: Path) -> None:
    link = build_dir / "current"
    tmp_link = build_dir / ".current.new"
    if tmp_link.is_symlink() or tmp_link.exists():
        tmp_link.unlink()
    tmp_link.symlink_to(run.relative_to(build_dir))
    os.replace(tmp_link, link)


def _prune(runs: Path, keep: Path) -> None:
    done = sorted(p for p in runs.iterdir() if p.is_dir() and not p.name.startswith("."))
    for old in done[:-KEEP_RUNS]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)
    for partial in runs.glob(".*.partial"):  # left by a killed build
        shutil.rmtree(partial, ignore_errors=True)


def class_counts(union: Graph, settings: Settings) -> Counter:
    """Instances per mdkg class (with the inferred superclass types the emitter writes)."""
    prefix = settings.ns.MDKG
    counts: Counter = Counter()
    for o in union.objects(None, RDF.type):
        if isinstance(o, URIRef) and str(o).startswith(prefix):
            counts[str(o)[len(prefix):]] += 1
    counts["Theme"] = sum(1 for c in union.subjects(RDF.type, SKOS.Concept)
                          if str(c).startswith(settings.ns.ID["theme/"]))
    return counts


def _write_reports(folder: Path, parts: dict, counts: Counter) -> None:
    report = folder / "report"
    report.mkdir()
    with (report / "unresolved.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["surface", "count", "document", "passage", "line"])
        for c in parts["candidates"]:
            w.writerow([c.surface, c.count, c.example.doc_id, c.example.n, c.example.start_line])
    with (report / "ambiguous.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["surface", "refs"])
        for form, refs in sorted(parts["ambiguous"].items()):
            w.writerow([form, " ".join(sorted(refs))])
    relations = Counter(a.type for a in parts["assertions"])
    summary = {"classes": dict(sorted(counts.items())), "relations": dict(sorted(relations.items())),
               "mentions": len(parts["mentions"]), "unresolved_candidates": len(parts["candidates"]),
               "documents": [d.id for d in parts["docs"]],
               "shacl": Counter(f.severity for f in parts["findings"]),
               "figures": {"total": len(parts["figures"]),
                           "per_document": dict(sorted(Counter(f.doc.id for f in parts["figures"]).items())),
                           "per_indicator": dict(sorted(Counter(f.indicator for f in parts["figures"]).items()))}}
    (report / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    with (report / "shacl.txt").open("w", encoding="utf-8") as f:
        for finding in parts["findings"]:
            f.write(f"{finding}\n")


def print_summary(result: BuildResult, echo=click.echo) -> None:
    echo(f"built {result.folder} in {result.seconds:.1f} s: {len(result.dataset)} quads, "
         f"{len(result.docs)} documents, {len(result.registry.entities)} registry entities, "
         f"{len(result.mentions)} mentions, {len(result.assertions)} curated assertions, "
         f"{len(result.figures)} figures")
    echo("instances per class:")
    for cls, n in sorted(result.class_counts.items()):
        echo(f"  {cls:<28}{n:>8}")
    echo("assertions per relation kind:")
    for kind, n in sorted(Counter(a.type for a in result.assertions).items()):
        echo(f"  {kind:<28}{n:>8}")
    warnings = sum(f.severity != "Violation" for f in result.findings)
    echo(f"SHACL: conforms ({warnings} warning(s)/info(s), see report/shacl.txt)")
    echo(f"unresolved capitalised names (registry candidates): {len(result.candidates)}, "
         f"see {result.folder / 'report' / 'unresolved.csv'}")


@click.command()
@click.option("--quiet", is_flag=True, help="Print only errors.")
@click.option("--force", is_flag=True, help="Build even if nothing changed since the last build.")
def command(quiet: bool, force: bool) -> None:
    """Build the graph from seeds/ into build/current (N-Quads and TriG), validated with SHACL. Skipped when the
    seeds, ontology, shapes, queries and ingest code are those build/current was made from (--force rebuilds)."""
    settings = Settings.from_env()
    if not force and up_to_date(settings):
        if not quiet:
            click.echo(f"{settings.build_dir / 'current'} is up to date (no input changed); --force rebuilds")
        return
    try:
        result = build(settings)
    except SeedErrors as e:
        for err in e.errors:
            click.echo(f"error: {err}", err=True)
        click.echo(f"build failed: {len(e.errors)} error(s); the previous build is unchanged", err=True)
        sys.exit(1)
    except (SeedError, ShapeViolations) as e:
        click.echo(f"error: {e}", err=True)
        click.echo("build failed; the previous build is unchanged", err=True)
        sys.exit(1)
    except OSError as e:  # a seed file that cannot be read (permissions, a folder named *.txt), a full disk
        click.echo(f"error: {e.filename or settings.root}: {e.strerror or e}", err=True)
        click.echo("build failed; the previous build is unchanged", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("build interrupted; the previous build is unchanged", err=True)
        sys.exit(130)
    if not quiet:
        print_summary(result)
