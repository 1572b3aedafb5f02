"""A build folder is all the server needs: `mdkg build` copies the queries, shapes and redirects it was made with
into its run folder, and `mdkg serve` reads them there, not from the source tree (MDKG_ROOT)."""

from __future__ import annotations

import shutil

import httpx
import pytest
from sparql_server import mdkg_server
from test_sparql_protocol import page_examples

from mdkg.settings import ROOT, Settings

MARK = "served from the copied build"


def test_a_build_carries_what_the_server_reads(built):
    served = Settings().serving(built.folder / "mdkg.nq")
    assert served.resources == built.folder
    for copy, source in ((served.queries_dir, ROOT / "queries"), (served.served_shapes_dir, ROOT / "shapes")):
        assert sorted(p.name for p in copy.iterdir()) == sorted(p.name for p in source.iterdir() if p.is_file())
    assert served.redirects_file.read_bytes() == (ROOT / "seeds" / "ids" / "redirects.csv").read_bytes()


def test_any_other_file_is_answered_with_the_installed_queries(tmp_path):
    data = tmp_path / "data.nq"
    data.write_text("", encoding="utf-8")
    assert Settings().serving(data).queries_dir == ROOT / "queries"


@pytest.fixture(scope="module")
def copied_build(built, tmp_path_factory):
    """A copy of the fresh build, elsewhere, its queries and shapes marked so that an answer shows where it read
    them from."""
    folder = tmp_path_factory.mktemp("served") / "build"
    shutil.copytree(built.folder, folder)
    instruments = folder / "queries" / "instruments.rq"
    text = instruments.read_text(encoding="utf-8")
    titled = text.replace("OPTIONAL { ?instrument dcterms:title ?title }", f'BIND("{MARK}" AS ?title)')
    assert titled != text
    instruments.write_text(titled, encoding="utf-8")
    example = folder / "queries" / "gaps-in-scope.rq"
    example.write_text(f"# {MARK}\n" + example.read_text(encoding="utf-8"), encoding="utf-8")
    with (folder / "shapes" / "mdkg-shapes.ttl").open("a", encoding="utf-8") as f:
        f.write(f'\n<https://w3id.org/mdkg/shapes#Marker> <http://www.w3.org/2000/01/rdf-schema#comment> "{MARK}" .\n')
    return folder


def test_the_server_needs_only_the_build_folder(copied_build, tmp_path, monkeypatch):
    nowhere = tmp_path / "no-source-tree"
    nowhere.mkdir()
    monkeypatch.setenv("MDKG_ROOT", str(nowhere))  # no seeds/, shapes/ or queries/ there
    monkeypatch.setenv("MDKG_BUILD_DIR", str(nowhere))
    with mdkg_server(tmp_path, "--data", str(copied_build / "mdkg.nq"), "--workers", "1") as (base, _):
        shapes = httpx.get(f"{base}/shapes", headers={"Accept": "text/turtle"}, timeout=60)
        assert shapes.status_code == 200 and MARK in shapes.text and "shacl#NodeShape" in shapes.text
        instruments = httpx.get(f"{base}/api/instruments", timeout=60).json()
        assert instruments and {i["title"] for i in instruments} == {MARK}
        r = httpx.get(f"{base}/api/gaps", params={"instrument": "icrmw", "as_of": "2005-10-01"}, timeout=60)
        report = r.json()["reports"][0]
        assert r.status_code == 200 and report["parties"] == 33 and "USA" in {s["iso3"] for s in report["gaps"]}
        examples = {e["name"]: e["query"] for e in page_examples(httpx.get(f"{base}/query", timeout=60).text)}
        assert MARK in examples["gaps-in-scope"] and "gaps-by-region" in examples
