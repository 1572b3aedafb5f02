"""`mdkg network`: the partnership network of the field: who is central, who brokers, which communities exist.

    mdkg network --measure betweenness --kinds State,DiasporaOrganisation --top 20
    mdkg network --measure betweenness --list-kinds State --top 20   # measured on all, States listed
    mdkg network --measure pagerank,constraint --relations partnership,agreement --from 2000 --to 2006
    mdkg network --layer interlocks --measure degree --json web/network.json --picture network.png
    mdkg network --measure brokerage --top 10              # Gould-Fernandez roles by stakeholder kind
    mdkg network --measure betweenness --approx 500 --workers 2     # sampled, error bound printed
    mdkg network --structure --ego iom --radius 2          # components, bridges, ego network
    mdkg network --measure betweenness --write-back build/analysis.nq
    mdkg load --to http://host:7878/store --data build/analysis.nq --append   # then queries/network-top.rq

The dataset (default: the build's N-Quads dump) is loaded into an in-memory store; the network is built from
it with the SPARQL files queries/network-*.rq (graph/network.py), measured with NetworkX (graph/measures.py)
and exported by graph/network_export.py. Layers: `relations` (curated ties: partnerships, agreements, joint
programmes, forums, memberships, funding), `interlocks` (shared instruments/programmes/processes only),
`affiliations` (the bipartite stakeholder-hub graph), `comentions` (named in the same passage: automatic,
weaker), `relations+comentions` (co-mentions added at --comention-factor). A shared group of n members adds
1/(n-1) to each pair (Newman 2001; `--projection count`: 1); survey responses are left out unless
`--relations` names `survey`. Tables, with the tie-weight rule under them, go to stdout, progress and notes to
stderr."""

from __future__ import annotations

import math
import sys
import textwrap
import time
from pathlib import Path

import click

from graph import measures as ms
from graph import network as nw
from graph import network_export as ex
from mdkg.cli import data_option, dataset


def _split(ctx: click.Context, param: click.Parameter, value: tuple[str, ...] | str | None) -> list[str] | None:
    if not value:
        return None
    values = value if isinstance(value, tuple) else (value,)
    out = [v.strip() for item in values for v in item.split(",") if v.strip()]
    return out or None


def _date(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        nw._bounds(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None
    return value


def _resolve_node(G, ref: str) -> str:
    """A node by key (iom, state/MEX), IRI, ISO3 code (MEX) or label (case-insensitive)."""
    wanted = ref.strip()
    candidates = (wanted, f"state/{wanted.upper()}")
    for key in candidates:
        if key in G:
            return key
    for n, d in G.nodes(data=True):
        if wanted == d.get("iri") or wanted.lower() == str(d.get("label", "")).lower():
            return n
    raise click.BadParameter(
        f"{ref!r} is not a node of this network (use an id such as iom or state/MEX)", param_hint="--ego"
    )


class _Progress:
    """Progress of long measures on stderr, once a measure has run for `after` seconds: a bar on a terminal,
    a line every 10% otherwise."""

    def __init__(self, quiet: bool, after: float = 1.0):
        self.quiet, self.after, self.bar, self.name, self.last = quiet, after, None, None, -1
        self.t0 = time.perf_counter()

    def __call__(self, name: str, done: int, total: int) -> None:
        if self.quiet or total <= 1:
            return
        if name != self.name:
            self.close()
            self.name, self.last, self.t0 = name, -1, time.perf_counter()
        elapsed = time.perf_counter() - self.t0
        if elapsed < self.after or done >= total and self.bar is None and self.last < 0:
            return
        if self.bar is None and sys.stderr.isatty():
            self.bar = click.progressbar(length=total, label=f"{name}", file=sys.stderr)
            self.bar.__enter__()
        if self.bar is not None:
            self.bar.update(done - self.bar.pos)
        else:
            tenth = (10 * done) // total
            if tenth != self.last:
                self.last = tenth
                click.echo(f"  {name}: {done}/{total} ({elapsed:.1f} s)", err=True)
        if done >= total:
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _fmt(v: float) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if abs(v) < 1e12 and round(float(v), 9).is_integer():
        return str(round(v))
    return f"{v:.4f}" if abs(v) >= 1e-3 else f"{v:.3e}"


def _table(header: tuple, rows: list[tuple]) -> list[str]:
    cells = [tuple(str(c) for c in header)] + [tuple(str(c) for c in row) for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


@click.command(name="network")
@click.option(
    "--measure",
    "-m",
    "measure_names",
    multiple=True,
    callback=_split,
    help=f"Measure(s), comma-separated: {', '.join(ms.MEASURES)} (default: degree).",
)
@click.option(
    "--layer",
    type=click.Choice(nw.LAYERS),
    default="relations",
    show_default=True,
    help="Which network view.",
)
@click.option(
    "--kinds",
    callback=_split,
    metavar="KIND,...",
    help="Keep only stakeholders of these classes (State, DiasporaOrganisation, Organisation, ...).",
)
@click.option(
    "--list-kinds",
    "list_kinds",
    callback=_split,
    metavar="KIND,...",
    help="Measure on the whole network, but list only stakeholders of these classes.",
)
@click.option(
    "--relations",
    callback=_split,
    metavar="KIND,...",
    help=f"Keep only these relation kinds: {', '.join(nw.RELATION_KINDS)} "
    f"(default: all but {', '.join(sorted(nw.OPT_IN_RELATIONS))}: answering a survey is not a partnership).",
)
@click.option(
    "--projection",
    type=click.Choice(nw.PROJECTIONS),
    default="newman",
    show_default=True,
    help="Weight a shared group (programme, forum, meeting) of n members adds to each pair: newman = 1/(n-1) "
    "(Newman 2001), count = 1.",
)
@click.option("--documents", callback=_split, metavar="DOC,...", help="Keep only ties from these documents (ids).")
@click.option("--themes", callback=_split, metavar="THEME,...", help="Keep only ties tagged with these themes.")
@click.option("--from", "start", callback=_date, metavar="DATE", help="Window start (YYYY, YYYY-MM, YYYY-MM-DD).")
@click.option("--to", "end", callback=_date, metavar="DATE", help="Window end.")
@click.option("--top", type=click.IntRange(min=0), default=20, show_default=True, help="Rows to print (0: all).")
@click.option(
    "--approx",
    type=click.IntRange(min=1),
    metavar="K",
    help="Sampled betweenness from K sources (error bound printed).",
)
@click.option(
    "--epsilon",
    type=click.FloatRange(min=1e-6, max=1.0),
    help="Sampled betweenness with this error bound (95%); sets K.",
)
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True, help="Processes for betweenness.")
@click.option("--backend", help="A NetworkX backend to dispatch to (e.g. parallel), if installed.")
@click.option("--unweighted", is_flag=True, help="Shortest paths by hops, not by 1/weight.")
@click.option(
    "--communities",
    "community_method",
    type=click.Choice(["louvain", "leiden"]),
    default="louvain",
    show_default=True,
    help="Community method (Leiden needs a NetworkX backend that has it).",
)
@click.option("--group", default="kind", show_default=True, help="Node attribute of the brokerage groups.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for sampling, Louvain and layout.")
@click.option(
    "--comention-factor",
    type=float,
    default=0.1,
    show_default=True,
    help="Weight of a co-mention relative to a curated tie (layer relations+comentions).",
)
@click.option("--ego", metavar="NODE", help="Restrict to the ego network of this node.")
@click.option("--radius", type=click.IntRange(min=1), default=1, show_default=True, help="Ego network radius.")
@click.option("--structure", is_flag=True, help="Print components, bridges, articulation points, communities.")
@click.option("--graphml", type=click.Path(dir_okay=False, path_type=Path), help="Write GraphML here.")
@click.option("--gexf", type=click.Path(dir_okay=False, path_type=Path), help="Write GEXF (with time spells) here.")
@click.option(
    "--csv",
    "csv_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write nodes.csv and edges.csv into this folder.",
)
@click.option(
    "--json",
    "json_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write node-link JSON for the browser here.",
)
@click.option(
    "--picture",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Draw the network (PNG or SVG): size by the first measure, colour by community.",
)
@click.option(
    "--write-back",
    "write_back",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the scores as RDF (graph/analysis) to this N-Quads/TriG file.",
)
@data_option
@click.option("--quiet", "-q", is_flag=True, help="No progress or notes on stderr.")
def command(
    measure_names,
    layer,
    kinds,
    list_kinds,
    relations,
    projection,
    documents,
    themes,
    start,
    end,
    top,
    approx,
    epsilon,
    workers,
    backend,
    unweighted,
    community_method,
    group,
    seed,
    comention_factor,
    ego,
    radius,
    structure,
    graphml,
    gexf,
    csv_dir,
    json_file,
    picture,
    write_back,
    data,
    quiet,
) -> None:
    """Network measures of the stakeholder network (centrality, brokerage, communities) and exports."""

    def note(msg: str) -> None:
        if not quiet:
            click.echo(msg, err=True)

    names = measure_names or ["degree"]
    unknown = [n for n in names if n not in ms.MEASURES]
    if unknown:
        raise click.BadParameter(
            f"unknown measure(s) {', '.join(unknown)}; one of {', '.join(ms.MEASURES)}",
            param_hint="--measure",
        )
    try:
        filters = nw.Filters.make(kinds, relations, documents, themes, start, end)
    except ValueError as e:
        hint = "--kinds" if "stakeholder kind" in str(e) else "--relations" if "relation" in str(e) else "--from/--to"
        raise click.BadParameter(str(e), param_hint=hint) from None
    if list_kinds:
        try:
            nw.Filters.make(kinds=list_kinds)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--list-kinds") from None
    path, settings = dataset(data)
    t0 = time.perf_counter()
    store = nw.load_store(path)
    netdata = nw.load_network_data(store, settings, comentions=layer in ("comentions", "relations+comentions"))
    G = nw.build_layer(netdata, layer, filters, comention_factor=comention_factor, projection=projection)
    if ego:
        G = ms.ego(G, _resolve_node(G, ego), radius)
    note(
        f"{layer} network: {G.number_of_nodes()} nodes, {G.number_of_edges()} edges "
        f"({time.perf_counter() - t0:.1f} s){_describe(filters)}"
    )
    if filters.relations is None:
        kinds_ = ", ".join(sorted(nw.DEFAULT_RELATIONS))
        note(f"relation kinds: {kinds_} (survey responses left out: --relations to add)")
    if G.number_of_nodes() == 0:
        click.echo("The network is empty with these filters (no curated tie matches).")
        return
    wanted = list(dict.fromkeys(names))
    if (picture or json_file or structure or graphml or gexf or csv_dir) and "community" not in wanted:
        wanted.append("community")
    n = G.number_of_nodes()
    k = approx
    if epsilon is not None:
        k = ms.samples_for_error(n, epsilon)
    if k is not None and k >= n:
        k = None
    progress = _Progress(quiet)
    results = ms.compute(
        G,
        wanted,
        k=k,
        seed=seed,
        weighted=not unweighted,
        workers=workers,
        community_method=community_method,
        group=group,
        backend=backend,
        progress=progress,
    )
    progress.close()
    ex.annotate(G, results)
    among = None
    if list_kinds:
        among = [v for v, d in G.nodes(data=True) if set(list_kinds) & set(d.get("kinds", ()))]
    click.echo("\n".join(_render(G, results, names, top, layer, among)))
    click.echo(f"\nTie weight: {G.graph.get('weighting', '')}.")
    if structure:
        click.echo("\n".join(_structure(G, results["community"])))
    for name in names:
        note(f"{name}: {results[name].note}")
    outputs = []
    if graphml:
        outputs.append(ex.write_graphml(G, graphml))
    if gexf:
        outputs.append(ex.write_gexf(G, gexf))
    if csv_dir:
        outputs.extend(ex.write_csv(G, csv_dir))
    if json_file:
        outputs.append(
            ex.write_json(
                G,
                json_file,
                {
                    "layer": layer,
                    "filters": _describe(filters).strip(" ;"),
                    "weighting": G.graph.get("weighting", ""),
                    "notes": {k_: m.note for k_, m in results.items()},
                },
            )
        )
    if picture:
        outputs.append(
            ex.draw(
                G,
                picture,
                results[names[0]].values,
                f"mdkg {layer} network: size = {names[0]}, colour = community\n"
                + textwrap.fill(f"tie weight: {G.graph.get('weighting', '')}", 140),
            )
        )
    if write_back:
        quads = ex.write_back(
            store, G, {k_: results[k_] for k_ in names}, layer, settings, _describe(filters).strip(" ;")
        )
        outputs.append(ex.save_quads(quads, write_back))
    for out in outputs:
        note(f"wrote {out}")


def _describe(filters: nw.Filters) -> str:
    parts = [
        f"{k}={','.join(sorted(v)) if isinstance(v, frozenset) else v}"
        for k, v in vars(filters).items()
        if v is not None
    ]
    return ("; filters: " + "; ".join(parts)) if parts else ""


def _render(
    G, results: dict[str, ms.Measure], names: list[str], top: int, layer: str, among: list | None = None
) -> list[str]:
    """The table: rank (among all nodes), id, label, kind and each measure; `among` restricts the rows."""
    first = results[names[0]]
    ranks = first.ranks()
    rows = []
    for node, _ in first.top(top or None, among):
        d = G.nodes[node]
        rows.append(
            (
                ranks[node],
                node,
                str(d.get("label", ""))[:50],
                d.get("kind", ""),
                *(_fmt(results[n].values.get(node)) for n in names),
            )
        )
    of = f"{len(among)} listed of {G.number_of_nodes()}" if among is not None else str(G.number_of_nodes())
    title = f"Top {len(rows)} of {of} by {names[0]} ({layer} network)"
    return [title, "", *_table(("rank", "id", "label", "kind", *names), rows)]


def _structure(G, community: ms.Measure) -> list[str]:
    s = ms.structure(G)
    c: ms.Communities = community.extra["communities"]
    out = [
        "",
        f"components: {len(s.components)} (largest {len(s.components[0]) if s.components else 0} nodes)",
        f"bridges: {len(s.bridges)}"
        + (": " + ", ".join(f"{a}–{b}" for a, b in s.bridges[:15]) if s.bridges else "")
        + (" ..." if len(s.bridges) > 15 else ""),
        f"articulation points: {len(s.articulation_points)}"
        + (": " + ", ".join(map(str, s.articulation_points[:15])) if s.articulation_points else ""),
        f"communities ({c.note}): {len(c.communities)}, modularity {c.modularity:.3f}",
    ]
    for i, members in enumerate(c.communities[:10]):
        names = sorted(members, key=lambda v: (-G.degree(v, weight="weight"), str(v)))
        out.append(
            f"  {i}: {len(members)} nodes: " + ", ".join(map(str, names[:8])) + (" ..." if len(names) > 8 else "")
        )
    return out
