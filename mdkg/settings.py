"""Paths, base IRI and namespaces, in one `Settings` built once at start-up and passed down.

`Settings()` holds plain defaults; `Settings.from_env()` is the one place that reads the environment (MDKG_BASE,
MDKG_ROOT, MDKG_BUILD_DIR). Nothing here reads the environment when it is imported."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

from rdflib import Namespace, URIRef

ROOT = Path(__file__).resolve().parents[1]
"""The installed code's own folder: its queries/ and shapes/ are the packaged ones."""

DEFAULT_BASE = "https://w3id.org/mdkg/"
"""The base IRI the ontology, shapes and queries are written against; a build with another base moves them."""

ORG = Namespace("http://www.w3.org/ns/org#")
PROV = Namespace("http://www.w3.org/ns/prov#")
SCHEMA = Namespace("https://schema.org/")
OA = Namespace("http://www.w3.org/ns/oa#")


@dataclass(frozen=True)
class Settings:
    base: str = DEFAULT_BASE
    root: Path = ROOT  # where ontology/, shapes/ and seeds/ are (what a build is made from)
    build_dir: Path = ROOT / "build"
    # where queries/, shapes/ and seeds/ids/redirects.csv are read when answering: the served build's folder (a build
    # copies them there, so that it is all the server needs), or the installed code's own
    resources: Path = ROOT

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        defaults = cls()
        return cls(
            base=environ.get("MDKG_BASE", defaults.base),
            root=Path(environ.get("MDKG_ROOT", defaults.root)),
            build_dir=Path(environ.get("MDKG_BUILD_DIR", defaults.build_dir)),
        )

    def serving(self, data: Path) -> Settings:
        """These settings for answering from the dataset file `data`: queries and shapes come from its build
        folder when it is one (`mdkg build` copies them there), else from the installed code."""
        folder = Path(data).resolve().parent
        return replace(self, resources=folder if (folder / "queries").is_dir() else ROOT)

    @cached_property
    def ns(self) -> Namespaces:
        return Namespaces(self.base)

    @property
    def seeds(self) -> Path:
        return self.root / "seeds"

    @property
    def ontology_dir(self) -> Path:
        return self.root / "ontology"

    @property
    def shapes_dir(self) -> Path:
        """The shapes a build validates against (the server reads the copy in its build: `served_shapes_dir`)."""
        return self.root / "shapes"

    @property
    def queries_dir(self) -> Path:
        return self.resources / "queries"

    @property
    def served_shapes_dir(self) -> Path:
        return self.resources / "shapes"

    @property
    def redirects_file(self) -> Path:
        return self.resources / "seeds" / "ids" / "redirects.csv"

    @property
    def dataset_file(self) -> Path:
        """The N-Quads dump of the last good build, which the server loads by default."""
        return self.build_dir / "current" / "mdkg.nq"


class Namespaces:
    """IRI minting for one base; see docs/data-model.md for the scheme."""

    def __init__(self, base: str):
        if not base.endswith("/"):
            base += "/"
        self.base = base
        self.MDKG = Namespace(base + "ontology#")
        self.ID = Namespace(base + "id/")
        self.GRAPH = Namespace(base + "graph/")

    def moved(self, text: str) -> str:
        """Text written against DEFAULT_BASE (ontology, shapes, queries), with this base instead."""
        return text if self.base == DEFAULT_BASE else text.replace(DEFAULT_BASE, self.base)

    def entity(self, slug: str) -> URIRef:
        return self.ID[slug]

    def state(self, iso3: str) -> URIRef:
        return self.ID[f"state/{iso3}"]

    def doc(self, doc_id: str) -> URIRef:
        return self.ID[f"doc/{doc_id}"]

    def passage(self, doc_id: str, n: int) -> URIRef:
        return self.ID[f"doc/{doc_id}/p{n}"]

    def theme(self, slug: str) -> URIRef:
        return self.ID[f"theme/{slug}"]

    def region(self, m49: str) -> URIRef:
        return self.ID[f"region/{m49}"]

    def graph(self, name: str) -> URIRef:
        return self.GRAPH[name]
