"""IRI <-> path, the one place that maps them: `{base}id/X` <-> `/id/X`, `{base}graph/X` <-> `/graph/X`,
`{base}ontology` (and its terms `{base}ontology#T`) <-> `/ontology`, `{base}shapes` (`#S`) <-> `/shapes`, the
JSON-LD context. Every page and API answer that links an IRI goes through `Paths.local_path`."""

from __future__ import annotations

from dataclasses import dataclass

CONTEXT_PATH = "/context.jsonld"
ROOTS = ("id/", "graph/", "ontology", "shapes", CONTEXT_PATH.lstrip("/"))


@dataclass(frozen=True)
class Paths:
    base: str  # the base IRI, ending in /

    def local_path(self, value: str) -> str | None:
        """The path under which this server answers for `value`, or None if it is not one of ours."""
        if not value.startswith(self.base):
            return None
        rest = value[len(self.base) :]
        return "/" + rest if rest.startswith(ROOTS) else None

    def href(self, value: str) -> str:
        """A link to `value`: its local path, or the IRI itself when it is not ours."""
        return self.local_path(value) or value

    def iri_of(self, path: str) -> str:
        """The IRI a local path (`/id/...`, `/ontology`, `/shapes`) stands for."""
        return self.base + path.lstrip("/")

    def entity_iri(self, entity_id: str) -> str:
        return self.base + "id/" + entity_id

    def entity_id(self, value: str) -> str | None:
        prefix = self.base + "id/"
        return value[len(prefix) :] if value.startswith(prefix) else None

    def passage_api(self, passage_iri: str | None) -> str | None:
        """/api/documents/{doc}/passages/{n} for a passage IRI."""
        pid = self.entity_id(passage_iri or "")
        if not pid or not pid.startswith("doc/") or "/p" not in pid:
            return None
        doc, _, n = pid[4:].rpartition("/p")
        return f"/api/documents/{doc}/passages/{n}" if n.isdigit() else None
