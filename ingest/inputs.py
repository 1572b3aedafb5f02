"""What a build is made from, as one fingerprint: `mdkg build` skips the work when nothing changed (issue 16).

The fingerprint covers every file under seeds/, ontology/ and shapes/, the queries the build copies for the server
(queries/), the code of the ingest (ingest/, mdkg/, graph/schema.py), the base IRI and the versions of the
libraries that write and check the output. A build records it in its folder; the next `mdkg build` compares,
and `--force` rebuilds regardless."""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

from mdkg.settings import ROOT, Settings

FILE = "inputs.sha256"
CODE = ("ingest", "mdkg", "graph/schema.py")  # the registry's kinds come from graph.schema
LIBRARIES = ("rdflib", "pyoxigraph", "pyshacl", "pycountry", "country_converter", "PyYAML")


def _files(settings: Settings) -> list[tuple[str, Path]]:
    roots = [("seeds", settings.seeds), ("ontology", settings.ontology_dir), ("shapes", settings.shapes_dir),
             ("queries", settings.queries_dir)]
    roots += [(name, ROOT / name) for name in CODE]
    out = []
    for label, root in roots:
        if root.is_file():
            out.append((label, root))
        elif root.is_dir():
            out += [
                (f"{label}/{p.relative_to(root).as_posix()}", p)
                for p in root.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts
            ]
    return sorted(out)


def fingerprint(settings: Settings) -> str:
    h = hashlib.sha256()
    h.update(f"base {settings.ns.base}\n".encode())
    for lib in LIBRARIES:
        try:
            h.update(f"{lib} {metadata.version(lib)}\n".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{lib} -\n".encode())
    for name, path in _files(settings):
        h.update(f"{name} {hashlib.sha256(path.read_bytes()).hexdigest()}\n".encode())
    return h.hexdigest()


def recorded(folder: Path) -> str | None:
    try:
        return (folder / FILE).read_text().strip()
    except OSError:
        return None


def up_to_date(settings: Settings) -> bool:
    """Whether build/current was made from exactly the inputs there are now."""
    current = settings.build_dir / "current"
    return current.exists() and (current / "mdkg.nq").is_file() and recorded(current) == fingerprint(settings)
