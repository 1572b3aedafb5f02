"""Paths, base IRI and namespaces shared by every stage. Override with environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from rdflib import Namespace, URIRef

ROOT = Path(__file__).resolve().parents[1]

ORG = Namespace("http://www.w3.org/ns/org#")
PROV = Namespace("http://www.w3.org/ns/prov#")
SCHEMA = Namespace("https://schema.org/")
OA = Namespace("http://www.w3.org/ns/oa#")


@dataclass(frozen=True)
class Settings:
    base: str = os.environ.get("MDKG_BASE", "https://w3id.org/mdkg/")
    root: Path = Path(os.environ.get("MDKG_ROOT", ROOT))  # where ontology/, shapes/ and seeds/ are
    build_dir: Path = Path(os.environ.get("MDKG_BUILD_DIR", ROOT / "build"))

    @property
    def seeds(self) -> Path:
        return self.root / "seeds"

    @property
    def ontology_dir(self) -> Path:
        return self.root / "ontology"

    @property
    def shapes_dir(self) -> Path:
        return self.root / "shapes"

    @property
    def dataset_file(self) -> Path:
        """The N-Quads dump of the last good build, which the server loads by default."""
        return self.build_dir / "current" / "mdkg.nq"

    @cached_property
    def ns(self) -> Namespaces:
        return Namespaces(self.base)


class Namespaces:
    """IRI minting for one base; see docs/data-model.md for the scheme."""

    def __init__(self, base: str):
        if not base.endswith("/"):
            base += "/"
        self.base = base
        self.MDKG = Namespace(base + "ontology#")
        self.ID = Namespace(base + "id/")
        self.GRAPH = Namespace(base + "graph/")

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


SETTINGS = Settings()
