"""IRIs that survive corrections (ingest/ids.py): relationship ids kept in the assertion files and checked against
the register of their meanings; passage ids aligned with the register of passage texts."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from rdflib import URIRef

from ingest import ids
from ingest.build import build
from ingest.errors import SeedErrors
from mdkg.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
IDS = ROOT / "seeds" / "ids"


PROV_DERIVED = URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")


def has_subject(ds, iri: str) -> bool:
    return any(True for _ in ds.quads((URIRef(iri), None, None, None)))


def test_every_assertion_keeps_an_id_and_every_id_is_registered(built):
    missing = [f"{a.where.file.name}:{a.where.line}" for a in built.assertions if a.id is None]
    assert missing == [], "run `python -m ingest.ids` to write the missing ids"
    register = ids.load_relationship_register(IDS)
    assert {a.id for a in built.assertions} <= set(register)
    gone = set(register) - {a.id for a in built.assertions}
    moved = set(ids.load_redirects(IDS))  # keyed like IRIs below {base}id/: rel/<id>
    assert {f"rel/{g}" for g in gone} <= moved, "a retired id must redirect (seeds/ids/redirects.csv)"


def test_every_passage_is_in_the_register(built):
    register = ids.load_passage_register(IDS)
    for doc in built.docs:
        kept = dict(register[doc.id])
        for p in doc.passages:
            assert kept.get(f"p{p.n}") == ids.text_sha1(p.text), f"{doc.id} p{p.n}: run `python -m ingest.ids`"


def test_relationship_iris_are_the_kept_ids(built):
    a = built.assertions[0]
    iri = f"{Settings().ns.base}id/rel/{a.id}"
    assert has_subject(built.dataset, iri)


def test_a_corrected_quote_keeps_the_id(built):
    a = built.assertions[0]
    corrected = dataclasses.replace(a, quote=a.quote + " (corrected)", note="a typo fixed")
    assert corrected.key == a.key
    assert ids.check_relationships(IDS, [corrected, *built.assertions[1:]]) == []


def test_an_id_that_changes_meaning_is_an_error_naming_file_and_line(built):
    a = next(x for x in built.assertions if x.type == "partnership")
    changed = dataclasses.replace(a, values={**a.values, "partners": ["iom", "ilo"]})
    with pytest.raises(SeedErrors) as e:
        ids.check_relationships(IDS, [changed])
    message = str(e.value)
    assert f"{a.where.file.name}:" in message and "id: " in message and "never changes meaning" in message


def test_partner_order_is_not_a_change_of_meaning(built):
    a = next(x for x in built.assertions if x.type == "partnership" and len(x.values["partners"]) > 1)
    reordered = dataclasses.replace(a, values={**a.values, "partners": list(reversed(a.values["partners"]))})
    assert ids.check_relationships(IDS, [reordered]) == []


def test_a_duplicate_id_is_an_error(built):
    a, b = built.assertions[:2]
    with pytest.raises(SeedErrors, match="duplicate id"):
        ids.check_relationships(IDS, [a, dataclasses.replace(b, id=a.id)])


def register_of(texts):
    return [(f"p{i}", ids.text_sha1(t)) for i, t in enumerate(texts, 1)]


def test_inserting_a_paragraph_renumbers_nothing():
    old = ["Title", "First paragraph.", "Second paragraph.", "Third."]
    new = ["A new preface.", "Title", "First paragraph.", "Inserted.", "Second paragraph.", "Third."]
    assert ids.align(register_of(old), new) == ["p5", "p1", "p2", "p6", "p3", "p4"]


def test_a_paragraph_edited_in_place_keeps_its_id():
    old = ["Title", "First paragraph.", "Second paragraph.", "Third."]
    new = ["Title", "First paragraph, corrected.", "Second paragraph.", "Third."]
    assert ids.align(register_of(old), new) == ["p1", "p2", "p3", "p4"]


def test_a_deleted_paragraph_frees_nothing_and_white_space_does_not_count():
    old = ["Title", "First paragraph.", "Second paragraph.", "Third."]
    new = ["Title", "Second   paragraph.", "Third.", "A new ending."]
    assert ids.align(register_of(old), new) == ["p1", "p3", "p4", "p5"]


def test_a_document_without_a_register_gets_ordinal_ids():
    assert ids.align([], ["a", "b"]) == ["p1", "p2"]


def derived_from(ds, doc_id: str) -> set[tuple[str, str]]:
    prefix = f"{Settings().ns.base}id/doc/{doc_id}/"
    return {(str(s), str(o)) for s, _, o, _ in ds.quads((None, PROV_DERIVED, None, None)) if str(o).startswith(prefix)}


def test_the_build_uses_the_register_when_a_document_changes(tmp_path, built):
    """A real build on a copy of the seeds with a paragraph inserted at the top of a document: the passages after it
    keep their IRIs, and the relationships still cite the same passage IRIs."""
    root = tmp_path / "root"
    for name in ("ontology", "shapes", "seeds"):
        shutil.copytree(ROOT / name, root / name)
    doc = root / "seeds" / "documents" / "002_dfeafc72ae11eb25.txt"
    doc.write_text("An inserted first paragraph.\n\n" + doc.read_text(encoding="utf-8"), encoding="utf-8")
    result = build(Settings(root=root, build_dir=tmp_path / "build"))
    base = Settings().ns.base
    derived = derived_from(result.dataset, "gfmd-csd-2007")
    assert derived and derived == derived_from(built.dataset, "gfmd-csd-2007")  # every citation as before
    register = ids.load_passage_register(IDS)["gfmd-csd-2007"]
    first = next(p for p in result.docs if p.id == "gfmd-csd-2007").passages[0]
    assert first.n == 1 and first.text.startswith("An inserted")
    new_id = f"p{len(register) + 1}"
    assert has_subject(result.dataset, f"{base}id/doc/gfmd-csd-2007/{new_id}")
