"""`mdkg gaps`: ratification gaps for an instrument at a date, as a table; CSV/JSON on request.

    mdkg gaps --instrument icrmw --as-of 2005-10-01 --by region
    mdkg gaps --instrument icrmw --as-of 2005-10-01 --region Asia --by subregion
    mdkg gaps --instrument ilo-c97 --not-party-to icrmw --as-of 2010-01-01 --csv gaps.csv
    mdkg gaps --instrument icrmw --scope corridors --json gaps.json
    mdkg gaps --instrument icrmw --timeline --csv parties-per-year.csv
    mdkg gaps --claims --json claims.json

The dataset (default: the build's N-Quads dump, settings.dataset_file) is loaded into an in-memory store and
queried with the SPARQL files of queries/ (graph/gaps.py). When the instrument's treaty record is partial or
empty, or the date is after the record's status date, a WARNING says so on stderr, the title says
INCOMPLETE, and the CSV/JSON carry `record_complete: false`."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import json
import textwrap
import warnings
from pathlib import Path

import click

from graph import gaps as g
from mdkg.cli import data_option, dataset
from mdkg.settings import Settings


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date:
    if value is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(value) if len(value) == 10 else _bad(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; use YYYY-MM-DD, e.g. 2005-10-01") from None


def _bad(value: str) -> dt.date:
    raise ValueError(value)


@click.command(name="gaps")
@click.option("--instrument", "-i",
              help="Registry id of the instrument, e.g. icrmw, ilo-c97, untoc (required, but with --claims).")
@click.option("--as-of", "as_of", callback=_date, metavar="YYYY-MM-DD", help="The date (default: today).")
@click.option("--by", type=click.Choice(["region", "subregion"]),
              help="Group by UN M49 region or sub-region.")
@click.option("--region", metavar="AREA",
              help="Only the states of one UN M49 region or sub-region: its name or code (Asia, 142, "
                   "'South-eastern Asia', 035).")
@click.option("--not-party-to", "not_party_to", metavar="ID",
              help="List the states party to --instrument but not to this instrument.")
@click.option("--scope", type=click.Choice(list(g.SCOPES)), default="all",
              show_default=True,
              help="All states, or only those the graph shows on a migration corridor (origin/destination), "
                   "as partners of an active partnership, or either (related).")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write CSV here.")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write JSON here.")
@click.option("--timeline", is_flag=True,
              help="Instead of the gaps: the number of parties at the end of each year.")
@click.option("--claims", "check_claims", is_flag=True,
              help="Instead of the gaps: the seed documents' ratification claims (all, or those about "
                   "--instrument) checked against the record at their dates.")
@data_option
def command(instrument: str | None, as_of: dt.date, by: str | None, region: str | None,
            not_party_to: str | None, scope: str,
            csv_file: Path | None, json_file: Path | None, timeline: bool, check_claims: bool,
            data: Path | None) -> None:
    """Which states are not party to an instrument at a date (UN Treaty Collection / ILO NORMLEX record);
    with --timeline, parties per year; with --claims, the seed documents' ratification claims checked."""
    if timeline and check_claims:
        raise click.UsageError("--timeline and --claims are two different questions: ask one at a time")
    if not instrument and not check_claims:
        raise click.UsageError("Missing option '--instrument' / '-i'.")
    path, settings = dataset(data)
    store = g.load_store(path)
    if not_party_to and scope != "all":
        raise click.UsageError("--not-party-to lists states among all states; use it with --scope all")
    try:
        if instrument:
            g.resolve_instrument(store, instrument, settings)
        if not_party_to:
            g.resolve_instrument(store, not_party_to, settings)
    except g.UnknownInstrument as e:
        raise click.BadParameter(str(e), param_hint="--instrument/--not-party-to") from None
    if region and not_party_to:
        raise click.UsageError("--region is not available with --not-party-to")
    if region:
        try:
            g.resolve_area(store, region, settings)
        except g.UnknownArea as e:
            raise click.BadParameter(str(e), param_hint="--region") from None
    if timeline:
        return _timeline(store, settings, instrument, csv_file, json_file)
    if check_claims:
        return _claims(store, settings, instrument, csv_file, json_file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", g.RecordIncompleteWarning)  # printed below, once, more visibly
        if not_party_to:
            report = g.party_to_x_not_y(store, instrument, not_party_to, as_of, settings)
            if by:
                report.regions = g.group_by_region(report.rows, by)
        else:
            report = g.gaps(store, instrument, as_of, by=by, scope=scope, region=region, settings=settings)
    click.echo(_render(report, by, scope, not_party_to))
    if report.warnings:
        click.secho(f"mdkg gaps: {len(report.warnings)} WARNING(S): the record is incomplete for this "
                    f"question (see the output)", fg="yellow", err=True)
    if csv_file:
        _write_csv(report, csv_file, by)
        click.echo(f"wrote {csv_file}", err=True)
    if json_file:
        _write_json(report, json_file)
        click.echo(f"wrote {json_file}", err=True)


def _timeline(store, settings: Settings, instrument: str, csv_file: Path | None, json_file: Path | None) -> None:
    info = g.resolve_instrument(store, instrument, settings)
    years = g.timeline(store, instrument, settings=settings)
    last = dt.date(years[-1].year, 12, 31) if years else dt.date.today()
    warn = g.record_warnings(info, last)
    flag = "" if not warn else "  [INCOMPLETE RECORD]"
    click.echo(f"Parties to {info.id} at the end of each year{flag}")
    click.echo(f"  {info.id}: {info.title}\n  record: {info.describe()}")
    for message in warn:
        click.echo(textwrap.fill(message, width=110, subsequent_indent="    "))
    click.echo("")
    rows = [(t.year, t.parties, t.state_parties, f"{t.change:+d}") for t in years]
    click.echo("\n".join(_table(("year", "parties", "state parties", "change"), rows)))
    meta = {"query": "parties-per-year", "instruments": info.id,
            "record_coverage": f"{info.id}: {info.coverage}", "record_complete": not warn}
    _write_rows(csv_file, json_file, meta, [dataclasses.asdict(t) for t in years],
                [f.name for f in dataclasses.fields(g.YearCount)], warn)


def _claims(store, settings: Settings, instrument: str | None, csv_file: Path | None, json_file: Path | None) -> None:
    results = g.claim_check(store, settings=settings)
    if instrument:
        results = [c for c in results if c.instrument == g.resolve_instrument(store, instrument, settings).id]
    click.echo(f"Ratification claims of the seed documents checked against the treaty record "
               f"({len({c.claim for c in results})} claims, {len(results)} checks)")
    last = None
    for c in results:
        if c.claim != last:
            last = c.claim
            when = c.as_of.isoformat() if isinstance(c.as_of, dt.date) else c.as_of
            click.echo("")
            quote = " ".join((c.quote or "").split())
            click.echo(textwrap.fill(f"{c.instrument}, {when}: \u201c{quote}\u201d", width=110,
                                     subsequent_indent="    "))
            click.echo(f"    source: {c.source or '-'}; record: {c.coverage}")
        what = f"{c.aspect} {c.state}" if c.state else c.aspect
        click.echo(textwrap.fill(f"{what}: claimed {c.claimed} -> {c.verdict}", width=110,
                                 initial_indent="  - ", subsequent_indent="      "))
    meta = {"query": "claim-check"}
    _write_rows(csv_file, json_file, meta, [dataclasses.asdict(c) for c in results],
                [f.name for f in dataclasses.fields(g.ClaimResult)], [])


def _write_rows(csv_file: Path | None, json_file: Path | None, meta: dict, rows: list[dict],
                fields: list[str], warn: list[str]) -> None:
    if csv_file:
        with csv_file.open("w", encoding="utf-8", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=[*meta, *fields])
            writer.writeheader()
            for row in rows:
                writer.writerow({**meta, **{k: ("" if v is None else v) for k, v in row.items()}})
        click.echo(f"wrote {csv_file}", err=True)
    if json_file:
        doc = {**meta, "warnings": warn, "rows": rows}
        json_file.write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=_plain) + "\n",
                             encoding="utf-8")
        click.echo(f"wrote {json_file}", err=True)


def _plain(obj):
    if isinstance(obj, dt.date):
        return obj.isoformat()
    raise TypeError(type(obj))


def _title(report: g.GapReport, scope: str, not_party_to: str | None) -> list[str]:
    first = report.instruments[0]
    if not_party_to:
        what = f"States party to {first.id} but not to {report.instruments[1].id}"
    else:
        where = f" ({g.SCOPES[scope][1]})" if g.SCOPES[scope][1] else ""
        what = f"States not party to {first.id}{where}"
    flag = "" if report.complete else "  [INCOMPLETE RECORD: see warnings]"
    where = f" in {report.region}" if report.region else ""
    lines = [f"{what}{where}, as of {report.as_of}{flag}"]
    for info in report.instruments:
        lines.append(f"  {info.id}: {info.title}")
        lines.append(f"  record: {info.describe()}")
    if report.statehood:
        lines.append(textwrap.fill(f"states: {report.statehood}", width=110, initial_indent="  ",
                                   subsequent_indent="    "))
    return lines


def _render(report: g.GapReport, by: str | None, scope: str, not_party_to: str | None) -> str:
    out = _title(report, scope, not_party_to)
    if report.states is not None and report.parties is not None and not not_party_to:
        no_data = len(report.no_data)
        known = report.states - no_data
        out.append(f"  {report.parties} of {report.states} states party; {known - report.parties} not party"
                   + (f"; {no_data} no data (the record does not say)" if no_data else ""))
    for message in report.warnings:
        out.append(textwrap.fill(message, width=110, subsequent_indent="    "))
    out.append("")
    if by:
        header = ("region", "states", "parties", "not party", "signatory", "no action", "denounced", "no data")
        rows = [(r.region, r.states, r.parties if not not_party_to else "-", r.non_parties, r.signatories,
                 r.no_action, r.denounced, r.no_data) for r in report.regions]
        out.extend(_table(header, rows))
        out.append("")
        names = {r.iso3: r.name or r.iso3 for r in report.rows}
        for r in report.regions:
            if r.non_party_codes:
                listed = ", ".join(f"{names.get(c, c)} ({c})" for c in r.non_party_codes)
                out.append(textwrap.fill(listed, width=110, initial_indent=f"{r.region}: ",
                                         subsequent_indent="    "))
    else:
        scoped = scope != "all"
        header = ("iso3", "state", "status", "signed", "denounced", "region")
        header += ("in scope as",) if scoped else ()
        rows = [(r.iso3, r.name or "", r.status, r.signature_date or "", r.denunciation_date or "",
                 r.region or "") + ((r.roles or "",) if scoped else ()) for r in report.rows]
        out.extend(_table(header, rows))
        out.append(f"({len(report.rows)} states)")
    if not report.complete:
        out.append("INCOMPLETE RECORD: this is not a complete gap list (see the warnings above).")
    return "\n".join(out)


def _table(header: tuple, rows: list[tuple]) -> list[str]:
    cells = [tuple(str(c) for c in header)] + [tuple(str(c) for c in row) for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def _meta(report: g.GapReport) -> dict:
    return {"query": report.query, "as_of": report.as_of.isoformat(),
            "instruments": ", ".join(i.id for i in report.instruments),
            "record_coverage": ", ".join(f"{i.id}: {i.coverage}" for i in report.instruments),
            "record_complete": report.complete}


def _write_csv(report: g.GapReport, path: Path, by: str | None) -> None:
    meta = _meta(report)
    with path.open("w", encoding="utf-8", newline="") as f:
        if by:
            fields = [fl.name for fl in dataclasses.fields(g.RegionGap)]
            rows = [{**dataclasses.asdict(r), "non_party_codes": " ".join(r.non_party_codes)}
                    for r in report.regions]
        else:
            fields = [fl.name for fl in dataclasses.fields(g.StateStatus)]
            rows = [dataclasses.asdict(r) for r in report.rows]
        writer = csv.DictWriter(f, fieldnames=[*meta, *fields])
        writer.writeheader()
        for row in rows:
            writer.writerow({**meta, **{k: ("" if v is None else v) for k, v in row.items()}})


def _write_json(report: g.GapReport, path: Path) -> None:
    def plain(obj):
        if isinstance(obj, dt.date):
            return obj.isoformat()
        raise TypeError(type(obj))

    doc = {**_meta(report), "warnings": report.warnings, "parties": report.parties, "states": report.states,
           "no_data": report.no_data, "region": report.region, "statehood": report.statehood,
           "instrument_records": [dataclasses.asdict(i) for i in report.instruments],
           "rows": [dataclasses.asdict(r) for r in report.rows],
           "regions": [dataclasses.asdict(r) for r in report.regions]}
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=plain) + "\n", encoding="utf-8")
