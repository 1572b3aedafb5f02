"""`mdkg figures`: the seed documents' figures as a table; CSV/JSON on request.

    mdkg figures --indicator migrant-stock
    mdkg figures --area MEX --from 2000-01-01 --to 2010-12-31 --csv mexico.csv
    mdkg figures --compare                 # figures two passages give for the same thing, with a verdict
    mdkg figures --check-record --json r.json   # counts of states parties against the treaty record
    mdkg figures --indicators              # the indicator scheme with the number of figures of each

The dataset (default: the build's N-Quads dump) is loaded into an in-memory store and queried with the SPARQL
files queries/figures*.rq (graph/figures.py), the same the REST API runs."""

from __future__ import annotations

import csv
import datetime as dt
import json
from pathlib import Path

import click

from graph import figures as F
from graph.gaps import load_store
from mdkg.cli import data_option, dataset


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD, e.g. 2005-10-01") from None


def _write(rows: list[dict], csv_file: Path | None, json_file: Path | None) -> None:
    if json_file:
        json_file.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if csv_file:
        with csv_file.open("w", encoding="utf-8", newline="") as f:
            fields = list(rows[0]) if rows else []
            w = csv.DictWriter(f, fieldnames=fields)
            w.writeheader()
            for r in rows:
                w.writerow({k: " | ".join(v) if isinstance(v, list) and k != "range_a" and k != "range_b"
                            else json.dumps(v) if isinstance(v, list) else v for k, v in r.items()})


def _fmt(v) -> str:
    if v is None:
        return ""
    n = F._number(v)
    return f"{n:,}" if isinstance(n, int) else f"{n:g}"


@click.command(name="figures")
@click.option("--indicator", "-i", metavar="SLUG", help="An indicator, e.g. migrant-stock (see --indicators).")
@click.option("--area", "-a", metavar="REF", help="An ISO3 code (MEX), an area (world, developing-countries) or "
                                                  "a registry id (icrmw, hld-2006).")
@click.option("--from", "date_from", callback=_date, metavar="YYYY-MM-DD",
              help="Only figures whose period ends on or after this date.")
@click.option("--to", "date_to", callback=_date, metavar="YYYY-MM-DD",
              help="Only figures whose period starts on or before this date.")
@click.option("--compare", is_flag=True, help="Instead: pairs of figures for the same indicator, area, breakdown "
                                              "and unit with overlapping periods, and whether they agree.")
@click.option("--check-record", "check_record", is_flag=True,
              help="Instead: the documents' counts of states parties against the treaty record.")
@click.option("--indicators", "list_indicators", is_flag=True, help="Instead: the indicators.")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, path_type=Path), help="Also write CSV here.")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, path_type=Path), help="Also write JSON here.")
@data_option
def command(indicator: str | None, area: str | None, date_from: dt.date | None, date_to: dt.date | None,
            compare: bool, check_record: bool, list_indicators: bool, csv_file: Path | None,
            json_file: Path | None, data: Path | None) -> None:
    """The figures of the seed documents (Data Cube observations): filter by indicator, area and period."""
    if sum((compare, check_record, list_indicators)) > 1:
        raise click.UsageError("--compare, --check-record and --indicators are different questions: ask one")
    path, settings = dataset(data)
    store = load_store(path)
    known = {i.slug: i for i in F.indicators(store, settings)}
    if indicator and indicator not in known:
        raise click.BadParameter(f"unknown indicator {indicator!r}; see `mdkg figures --indicators`",
                                 param_hint="--indicator")
    if list_indicators:
        for i in known.values():
            click.echo(f"{i.slug:<42}{i.unit:<10}{i.figures:>5}  {i.label}")
        _write([{"indicator": i.slug, "label": i.label, "unit": i.unit, "figures": i.figures,
                 "definition": i.definition} for i in known.values()], csv_file, json_file)
        return
    if compare:
        pairs = F.comparisons(store, indicator, settings=settings)
        for c in pairs:
            click.echo(f"{c.verdict:<11}{c.indicator} {c.area} [{c.breakdown}]: {_fmt(c.value_a)} {c.unit} "
                       f"({c.document_a}, {c.period_a}) vs {_fmt(c.value_b)} ({c.document_b}, {c.period_b})")
        click.echo(f"{len(pairs)} pair(s), {sum(c.verdict == 'disagrees' for c in pairs)} disagreeing")
        _write([c.as_dict() for c in pairs], csv_file, json_file)
        return
    if check_record:
        checks = F.record_checks(store, settings)
        for r in checks:
            click.echo(f"{r.instrument:<14}{r.period:<12}{_fmt(r.value):>6}  {r.document}: {r.verdict}")
        _write([r.as_dict() for r in checks], csv_file, json_file)
        return
    try:
        rows = F.figures(store, indicator, area, date_from, date_to, settings=settings)
    except ValueError as e:
        raise click.BadParameter(str(e), param_hint="--area") from None
    for f in rows:
        value = _fmt(f.value) + (f"–{_fmt(f.upper)}" if f.upper is not None else "")
        qual = f" ({', '.join(f.qualifiers)})" if f.qualifiers else ""
        breakdown = f" [{f.breakdown}]" if f.breakdown != "total" else ""
        click.echo(f"{f.indicator}{breakdown}  {f.area_label}  {f.period}: {value} {f.unit}{qual}  "
                   f"— {f.document} ¶{f.passage.rsplit('/p', 1)[-1]}")
    click.echo(f"{len(rows)} figure(s)")
    _write([f.as_dict() for f in rows], csv_file, json_file)
