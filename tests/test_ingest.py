"""The ingest stages on the real seeds and on broken copies of them: ontology loading, passages, mention detection
on a new document, the verbatim quote check, every bad-input case (file, line, field and non-zero exit), and the
atomic publication of a build."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ingest.build import run_stages
from ingest.documents import load_documents, split_passages
from ingest.errors import SeedError, SeedErrors
from ingest.mentions import detect, unresolved_candidates
from ingest.ontology import load_ontology
from ingest.registry import load_registry
from ingest.states import reference_states
from mdkg.settings import ROOT, Settings

SETTINGS = Settings()  # plain defaults: this checkout's seeds and queries, the default base IRI

BRIEF_DOC = """Remittance Corridors in West Africa

The Ghana Diaspora Forum works with the International Organization for Migration and the Senegalese
government on remittances. The Kumasi Hometown Network met the Ministry of Finance of Ghana in Accra.
"""


def _copy_project(tmp: Path) -> Settings:
    for name in ("ontology", "shapes", "seeds"):
        shutil.copytree(ROOT / name, tmp / name, ignore=shutil.ignore_patterns("curation"))
    return Settings(root=tmp, build_dir=tmp / "build")


def _errors(settings: Settings) -> list[SeedError]:
    with pytest.raises((SeedError, SeedErrors)) as info:
        run_stages(settings)
    return info.value.errors if isinstance(info.value, SeedErrors) else [info.value]


def _replace(path: Path, old: str, new: str) -> int:
    """Replace the first occurrence; return its 1-based line number."""
    text = path.read_text(encoding="utf-8")
    at = text.index(old)
    path.write_text(text[:at] + new + text[at + len(old):], encoding="utf-8")
    return text.count("\n", 0, at) + 1


def _set_first_kind(path: Path, kind: str) -> int:
    text = path.read_text(encoding="utf-8")
    m = re.search(r"^(\s*-?\s*kind: )(\w+)$", text, re.MULTILINE)
    path.write_text(text[:m.start(2)] + kind + text[m.end(2):], encoding="utf-8")
    return text.count("\n", 0, m.start()) + 1


# -- ontology -----------------------------------------------------------------------------------------------
def test_ontology_loads_and_every_term_has_a_label_and_definition():
    from rdflib import OWL, RDF, RDFS, SKOS
    ont = load_ontology(SETTINGS.ontology_dir, SETTINGS.ns.base)
    terms = [t for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
             for t in ont.graph.subjects(RDF.type, kind) if str(t).startswith(ont.namespace)]
    assert len(terms) > 80
    missing = [t for t in terms if not ont.graph.value(t, RDFS.label) or not ont.graph.value(t, SKOS.definition)]
    assert missing == []
    assert ont.is_a("DiasporaOrganisation", "Stakeholder") and ont.is_a("Meeting", "Process")
    assert {"State", "Instrument"}.isdisjoint(ont.registry_kinds()) and "Convention" in ont.registry_kinds()


# -- documents and passages -----------------------------------------------------------------------------
def test_passages_have_stable_ordinals_and_line_ranges():
    passages = split_passages("d", "Title\n\nFirst para\ncontinues\n\n\nSecond\n")
    assert [(p.n, p.start_line, p.end_line, p.text) for p in passages] == [
        (1, 1, 1, "Title"), (2, 3, 4, "First para\ncontinues"), (3, 7, 7, "Second")]


def test_every_seed_document_is_catalogued_with_quoted_fields():
    docs = load_documents(SETTINGS.seeds)
    assert len(docs) == 5 and all(d.passages for d in docs)
    for d in docs:
        assert d.meta.get("title") and d.meta["title"] != d.path.name
        flat = " ".join(d.text.split())
        for quote in d.meta.get("quotes") or []:
            assert " ".join(quote.split()) in flat, (d.id, quote)


# -- mentions -----------------------------------------------------------------------------------------------
def test_mention_detection_runs_unchanged_on_a_new_document(tmp_path):
    settings = _copy_project(tmp_path)
    (settings.seeds / "documents" / "900_new.txt").write_text(BRIEF_DOC, encoding="utf-8")
    ds, parts = run_stages(settings)
    new = next(d for d in parts["docs"] if d.id == "900-new")
    found = {(m.ref, m.surface) for m in parts["mentions"] if m.passage.doc_id == new.id}
    assert ("iom", "International Organization for Migration") in found
    assert ("GHA", "Ghana") in found and ("SEN", "Senegalese") in found  # a state name and a demonym
    unresolved = {c.surface for c in parts["candidates"] if c.example.doc_id == new.id}
    assert {"Ghana Diaspora Forum", "Kumasi Hometown Network"} <= unresolved
    assert "Accra" not in {m.surface for m in parts["mentions"] if m.passage.doc_id == new.id}


def test_detection_links_aliases_acronyms_and_reports_candidates():
    ont = load_ontology(SETTINGS.ontology_dir, SETTINGS.ns.base)
    docs = load_documents(SETTINGS.seeds)
    registry = load_registry(SETTINGS.seeds / "registry", ont, ont.concepts("theme"), reference_states(SETTINGS))
    mentions, _ = detect(docs, registry)
    forms = {(m.ref, m.surface) for m in mentions}
    assert {("iom", "IOM"), ("iom", "International Organization for Migration"),
            ("icrmw", "UN Migrant Workers Convention")} <= forms  # acronym, name, alias
    for m in mentions[:500]:
        assert m.passage.text[m.start:m.end] == m.surface
    assert unresolved_candidates(docs, mentions, set())


# -- the quote check ----------------------------------------------------------------------------------------
def test_a_quote_not_in_its_document_fails_naming_file_line_and_field(tmp_path):
    settings = _copy_project(tmp_path)
    path = settings.seeds / "assertions" / "south-centre-2006.yaml"
    quote = yaml.safe_load(path.read_text(encoding="utf-8"))["assertions"][0]["quote"]
    at = next(i for i, ch in enumerate(quote) if i > 5 and ch.isalpha())
    line = _replace(path, quote[:at + 1], quote[:at] + "§")
    errors = _errors(settings)
    assert len(errors) == 1
    err = errors[0]
    assert (Path(err.file).name, err.field) == ("south-centre-2006.yaml", "quote")
    assert err.line == line and "quote not found" in str(err)


def test_quotes_may_differ_from_the_text_only_in_white_space(tmp_path):
    settings = _copy_project(tmp_path)
    path = settings.seeds / "assertions" / "south-centre-2006.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    first = data["assertions"][0]
    quote = first["quote"]
    _replace(path, quote, quote.replace(" ", "  \n   ", 1).replace("\n", " "))
    ds, parts = run_stages(settings)
    a = next(a for a in parts["assertions"] if a.doc.id == "south-centre-2006" and a.id == first["id"])
    words = " ".join(quote.split())
    assert a.quote != quote and " ".join(a.quote.split()) == words  # read with its extra white space
    assert a.passages and words in " ".join(" ".join(p.text.split()) for p in a.passages)
    node = settings.ns.ID[f"rel/{a.id}"]
    quotes = {str(o) for _, _, o, _ in ds.quads((node, settings.ns.MDKG.quote, None, None))}
    assert quotes == {words}  # emitted as the document has it


# -- bad input ----------------------------------------------------------------------------------------------
def _first_entity_line(path: Path, key: str) -> int:
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip(" -").startswith(f"{key}:"):
            return n
    raise AssertionError(key)


@pytest.mark.parametrize("case", ["broken-yaml", "unknown-kind", "unknown-reference", "duplicate-id", "bad-date",
                                  "non-utf8", "unknown-type"])
def test_bad_input_names_file_line_and_field(tmp_path, case):
    settings = _copy_project(tmp_path)
    entities = settings.seeds / "registry" / "entities.yaml"
    assertions = settings.seeds / "assertions" / "south-centre-2006.yaml"
    if case == "broken-yaml":
        line = _replace(entities, "- id:", "- id: [unclosed\n  - id:")
        expect = (entities, line + 1, None, "invalid YAML")
    elif case == "unknown-kind":
        line = _set_first_kind(entities, "Spaceship")
        expect = (entities, line, "kind", "unknown kind 'Spaceship'")
    elif case == "unknown-reference":
        line = _replace(assertions, "implementer: south-centre", "implementer: no-such-body")
        expect = (assertions, line, "implementer", "unknown reference 'no-such-body'")
    elif case == "duplicate-id":
        text = entities.read_text(encoding="utf-8")
        first = yaml.safe_load(text)[0]
        dup = yaml.safe_dump([first], allow_unicode=True, sort_keys=False)
        entities.write_text(text + dup, encoding="utf-8")
        expect = (entities, text.count("\n") + 1, "id", f"duplicate id {first['id']!r}")
    elif case == "bad-date":
        line = _replace(entities, "kind: ", "date: 2006-02-30\n  kind: ")
        expect = (entities, line, "date", "bad date")
    elif case == "non-utf8":
        path = settings.seeds / "documents" / "003_410385bd79486c5a.txt"
        data = path.read_bytes()
        at = data.index(b"\n", 2000) + 1
        path.write_bytes(data[:at] + b"caf\xe9\n" + data[at:])
        expect = (path, data.count(b"\n", 0, at) + 1, None, "not valid UTF-8")
    else:
        line = _replace(assertions, "type: implementation", "type: friendship")
        expect = (assertions, line, "type", "unknown type 'friendship'")
    errors = _errors(settings)
    path, line, field, message = expect
    hit = [e for e in errors if Path(e.file) == path and e.line == line and message in e.message]
    assert hit, [str(e) for e in errors]
    if field:
        assert hit[0].field == field
    assert str(hit[0]).startswith(f"{path}:{line}: ")


def test_cli_fails_with_a_clear_message_and_keeps_the_previous_build(tmp_path):
    settings = _copy_project(tmp_path)
    env = {**os.environ, "MDKG_ROOT": str(tmp_path), "MDKG_BUILD_DIR": str(settings.build_dir)}
    cli = [sys.executable, "-m", "mdkg.cli", "build", "--quiet"]
    ok = subprocess.run(cli, env=env, capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0, ok.stderr
    current = (settings.build_dir / "current").resolve()
    before = (current / "mdkg.nq").read_bytes()
    _set_first_kind(settings.seeds / "registry" / "entities.yaml", "Spaceship")
    bad = subprocess.run(cli, env=env, capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 1
    assert "entities.yaml:" in bad.stderr and "unknown kind 'Spaceship'" in bad.stderr
    assert "Traceback" not in bad.stderr and "previous build is unchanged" in bad.stderr
    assert (settings.build_dir / "current").resolve() == current
    assert (current / "mdkg.nq").read_bytes() == before
    assert not list((settings.build_dir / "runs").glob(".*.partial"))


# -- the build on the real seeds --------------------------------------------------------------------------
def test_build_writes_quads_trig_and_reports(built):
    names = {p.name for p in built.folder.iterdir()}
    assert {"mdkg.nq", "mdkg.trig", "report"} <= names
    summary = (built.folder / "report" / "summary.json").read_text(encoding="utf-8")
    assert '"unresolved_candidates"' in summary
    counts = built.class_counts
    assert counts["Document"] == 5 and counts["State"] >= 193 and counts["TreatyAction"] > 3000
    assert counts["Relationship"] == len(built.assertions) and counts["Mention"] == len(built.mentions)


def test_every_curated_assertion_carries_provenance(built):
    from rdflib import URIRef
    from rdflib.namespace import PROV
    ns = SETTINGS.ns
    for a in built.assertions:
        node = ns.ID[f"rel/{a.key}"]
        graph = built.dataset.graph(ns.graph(f"doc/{a.doc.id}"))
        derived = set(graph.objects(node, PROV.wasDerivedFrom))
        assert derived and all(isinstance(p, URIRef) and f"/doc/{a.doc.id}/p" in str(p) for p in derived)
        assert graph.value(node, ns.MDKG.quote) is not None
