"""Figures of the seed documents over HTTP: the REST routes under /api/figures (JSON or CSV) and the figures page
/figures (a table and a chart per indicator). The work is done by graph/figures.py, which runs the SPARQL files
queries/figures*.rq; the routes answer its dataclasses as they are. The charts are SVG drawn here (no script), so
the page works under the server's Content-Security-Policy."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from markupsafe import Markup, escape

from api import store as S
from api.errors import html_errors
from api.problems import PROBLEM_RESPONSES, ProblemRoute, problem
from api.render import error_page, render
from api.state import state_of
from graph import figures as F
from mdkg.settings import Settings

router = APIRouter(prefix="/api", route_class=ProblemRoute, tags=["mdkg"], responses=PROBLEM_RESPONSES)
pages = APIRouter(route_class=ProblemRoute, dependencies=[Depends(html_errors)])

SLUG = r"^[a-z0-9][a-z0-9\-]{0,80}$"
AREA = r"^[A-Za-z0-9][A-Za-z0-9\-]{0,120}$"


# ------------------------------------------------------------------------------------------- helpers
async def _known(request: Request) -> dict[str, F.Indicator]:
    return {i.slug: i for i in await S.cached(request, F.indicators)}


def _csv(rows: list[dict], filename: str) -> Response:
    buf = io.StringIO()
    if rows:
        w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\r\n")
        w.writeheader()
        for r in rows:
            w.writerow(
                {k: " | ".join(map(str, v)) if isinstance(v, list) else ("" if v is None else v) for k, v in r.items()}
            )
    return Response(
        buf.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# ------------------------------------------------------------------------------------------- REST
@router.get(
    "/figures",
    response_model=F.FigureList,
    summary="The documents' figures (Data Cube observations)",
    responses={200: {"content": {"text/csv": {}}}},
)
async def figures_route(
    request: Request,
    indicator: Annotated[str | None, Query(pattern=SLUG, description="indicator slug, e.g. migrant-stock")] = None,
    area: Annotated[str | None, Query(pattern=AREA, description="ISO3 code, area slug or registry id")] = None,
    from_: Annotated[dt.date | None, Query(alias="from", description="periods ending on or after")] = None,
    to: Annotated[dt.date | None, Query(description="periods starting on or before")] = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
):
    known = await _known(request)
    if indicator and indicator not in known:
        return problem(404, f"unknown indicator {indicator!r}; see /api/figures/indicators")
    rows = await S.call(request, F.figures, indicator, area, from_, to)
    if format == "csv":
        return _csv([f.as_dict() for f in rows], "figures.csv")
    return F.FigureList(count=len(rows), figures=rows)


@router.get(
    "/figures/comparisons",
    response_model=list[F.Comparison],
    summary="Figures two passages give for the same thing, side by side, with a verdict",
)
async def comparisons_route(
    request: Request,
    indicator: Annotated[str | None, Query(pattern=SLUG, description="indicator slug")] = None,
):
    return await S.call(request, F.comparisons, indicator)


@router.get(
    "/figures/record-checks",
    response_model=list[F.RecordCheck],
    summary="The documents' counts of states parties against the treaty record",
)
async def record_checks_route(request: Request):
    return await S.call(request, F.record_checks)


@router.get("/figures/indicators", response_model=list[F.Indicator], summary="The indicators of the figures")
async def indicators_route(request: Request):
    return list((await _known(request)).values())


# ------------------------------------------------------------------------------------------- page
def _fmt(v: float | None) -> str:
    if v is None:
        return ""
    if v >= 1e9:
        return f"{v / 1e9:g} bn"
    if v >= 1e6:
        return f"{v / 1e6:g} m"
    return f"{v:,.0f}" if v == int(v) else f"{v:g}"


def chart(figs: list[dict], unit: str) -> Markup:
    """A horizontal bar per figure (a whisker for a range, an open arrow for "more than"), one unit per chart."""
    figs = [f for f in figs if f["unit"] == unit]
    if not figs:
        return Markup("")
    top = max(max(f["value"], f["upper"] or 0) for f in figs) or 1
    row, label_w, width = 22, 340, 780
    plot = width - label_w - 90
    height = row * len(figs) + 26
    parts = [f'<svg viewBox="0 0 {width} {height}" font-size="12" role="img" aria-label="{escape(unit)}">']
    for i, f in enumerate(figs):
        y = 8 + i * row
        x0 = label_w
        w = max(1.0, plot * f["value"] / top)
        label = f"{f['area_label']} · {f['period']}" + (f" · {f['breakdown']}" if f["breakdown"] != "total" else "")
        label += f" ({f['document']})"
        label = label if len(label) <= 52 else label[:51] + "…"
        parts.append(f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{escape(label)}</text>')
        parts.append(
            f'<rect class="bar" x="{x0}" y="{y + 3}" width="{w:.1f}" height="{row - 8}" fill="#4f7cac">'
            f"<title>{escape(' / '.join(f['quotes']))}</title></rect>"
        )
        end = x0 + w
        if f["upper"] is not None:
            end = x0 + plot * f["upper"] / top
            parts.append(
                f'<line x1="{x0 + w:.1f}" x2="{end:.1f}" y1="{y + row / 2:.1f}" y2="{y + row / 2:.1f}" '
                f'stroke="#1d3557" stroke-width="2"/>'
            )
        if "more-than" in f["qualifiers"] or "at-least" in f["qualifiers"]:
            parts.append(f'<text x="{end + 2:.1f}" y="{y + 13}" fill="#1d3557">▸</text>')
            end += 10
        value = _fmt(f["value"]) + (f"–{_fmt(f['upper'])}" if f["upper"] is not None else "")
        parts.append(f'<text x="{end + 4:.1f}" y="{y + 13}">{escape(value)}</text>')
    parts.append(f'<line class="axis" x1="{label_w}" x2="{label_w}" y1="4" y2="{height - 18}"/>')
    parts.append(
        f'<text x="{label_w}" y="{height - 4}">0</text><text x="{label_w + plot}" y="{height - 4}" '
        f'text-anchor="end">{escape(_fmt(top))} {escape(unit)}</text></svg>'
    )
    return Markup("".join(parts))


def page_data(store, indicator: str | None, area: str | None, settings: Settings) -> tuple[list, list, list]:
    """The figures page's three answers in one trip to a query worker."""
    return (F.figures(store, indicator, area, settings=settings), F.comparisons(store, indicator, settings=settings),
            F.record_checks(store, settings))


@pages.get("/figures", include_in_schema=False)
async def figures_page(
    request: Request,
    indicator: Annotated[str, Query(max_length=100)] = "",
    area: Annotated[str, Query(max_length=120)] = "",
):
    if area and not F.AREA_REF.match(area.strip()):
        return error_page(request, 422, f"area: not an ISO3 code, area slug or registry id: {area!r}")
    known = await _known(request)
    chosen = indicator if indicator in known else None
    rows, pairs, checks = await S.call(request, page_data, chosen, area.strip() or None)
    groups: dict[str, list[dict]] = defaultdict(list)
    for f in rows:
        groups[f.indicator].append(f.as_dict())
    sections = []
    for slug, figs in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        units = sorted({f["unit"] for f in figs})
        sections.append(
            {
                "indicator": known.get(slug),
                "slug": slug,
                "figures": figs,
                "charts": [(u, chart(figs, u)) for u in units],
            }
        )
    csv_query = "&".join(p for p in (f"indicator={chosen}" if chosen else "", f"area={area}" if area else "") if p)
    return render(
        request,
        "figures.html",
        {
            "known": sorted(known.values(), key=lambda i: i.label),
            "chosen": chosen,
            "area": area,
            "sections": sections,
            "count": len(rows),
            "pairs": [c.as_dict() for c in pairs],
            "checks": [r.as_dict() for r in checks],
            "csv": f"/api/figures?format=csv&{csv_query}".rstrip("&"),
            "dataset": str(state_of(request).settings.ns.ID["dataset/figures"]),
        },
        title="Figures",
    )
