"""Stage 6: the whole dataset against shapes/*.ttl with pyshacl. A violation fails the build with a report that
names the focus node, the path and the message; warnings and infos are reported but do not fail it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyshacl import validate as shacl_validate
from rdflib import RDF, Graph, Literal, Namespace
from rdflib.term import Node

from ingest.ontology import parse_rebased

SH = Namespace("http://www.w3.org/ns/shacl#")


@dataclass(frozen=True)
class Finding:
    severity: str  # Violation | Warning | Info
    focus: str
    path: str
    message: str
    shape: str
    value: str

    def __str__(self) -> str:
        path = f" {self.path}" if self.path else ""
        value = f" (value {self.value})" if self.value else ""
        return f"[{self.severity}] {self.focus}{path}: {self.message}{value}"


class ShapeViolations(Exception):
    def __init__(self, findings: list[Finding]):
        self.findings = findings
        lines = [str(f) for f in findings[:50]]
        if len(findings) > 50:
            lines.append(f"... and {len(findings) - 50} more")
        super().__init__(f"{len(findings)} SHACL violation(s):\n" + "\n".join(lines))


def load_shapes(folder: Path, base: str) -> Graph:
    return parse_rebased(sorted(folder.glob("*.ttl")), base)


def validate(data: Graph, shapes: Graph, ontology: Graph) -> list[Finding]:
    """All findings, violations first. `data` is validated as one graph (the union of the dataset's graphs);
    the ontology is passed so that sh:class checks see subclass links without copying them into the data."""
    _, report, _ = shacl_validate(data, shacl_graph=shapes, ont_graph=ontology, inference="none",
                                  advanced=True, allow_warnings=True, meta_shacl=False)
    findings = [_finding(report, r) for r in report.subjects(RDF.type, SH.ValidationResult)]
    order = {"Violation": 0, "Warning": 1, "Info": 2}
    return sorted(findings, key=lambda f: (order.get(f.severity, 3), f.focus, f.path))


def _finding(report: Graph, result: Node) -> Finding:
    def one(prop: Node) -> str:
        value = report.value(result, prop)
        if value is None:
            return ""
        return str(value) if isinstance(value, Literal) else value.n3()

    severity = one(SH.resultSeverity).rsplit("#", 1)[-1].rstrip(">")
    return Finding(severity, one(SH.focusNode), one(SH.resultPath), one(SH.resultMessage),
                   one(SH.sourceShape), one(SH.value))
