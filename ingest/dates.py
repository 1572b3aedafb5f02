"""Partial dates as the sources give them: a year, a year and month, or a full date."""

from __future__ import annotations

import datetime as dt
import re

from rdflib import XSD, Literal

_FORMS = [
    (re.compile(r"^\d{4}$"), XSD.gYear),
    (re.compile(r"^\d{4}-\d{2}$"), XSD.gYearMonth),
    (re.compile(r"^\d{4}-\d{2}-\d{2}$"), XSD.date),
]


def parse_partial_date(value: object) -> Literal:
    """'2005' -> xsd:gYear, '2005-02' -> xsd:gYearMonth, '2005-02-03' -> xsd:date; ValueError otherwise."""
    text = str(value).strip()
    for pattern, datatype in _FORMS:
        if pattern.match(text):
            try:
                _check_real(text)
            except ValueError as e:
                raise ValueError(f"bad date {text!r}: {e}") from None
            return Literal(text, datatype=datatype)
    raise ValueError(f"bad date {text!r}: expected YYYY, YYYY-MM or YYYY-MM-DD")


def _check_real(text: str) -> None:
    parts = [int(p) for p in text.split("-")]
    dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
