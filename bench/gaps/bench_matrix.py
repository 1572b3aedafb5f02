"""Benchmark: the full treaty-status matrix (every state x every instrument) on a date, computed by
queries/status-as-of.rq (one grouped pass: per state and instrument, the latest consent, signature and
denunciation date, then a status from them) against a plain FILTER NOT EXISTS formulation (four UNION
branches, party / denounced / signatory / no-action, each defined by FILTER (NOT) EXISTS tests), on the same
pyoxigraph store.

    .venv/bin/python bench/gaps/bench_matrix.py                 # the default build (build/current/mdkg.nq)
    .venv/bin/python bench/gaps/bench_matrix.py --data FILE.nq --runs 5 --as-of 2005-10-01 --as-of 2026-02-03
    .venv/bin/python bench/gaps/bench_matrix.py --treaties-only # states + treaty record, built in memory

For each date it first computes the matrix both ways and checks that they give the same status for every
(state, instrument) (this also warms up), then times N runs of each, alternating, and prints the medians and
the ratio plain / queries. Exit status 1 if the answers differ. The plain formulation takes minutes per run
on pyoxigraph: keep --runs small."""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import pyoxigraph as ox  # noqa: E402

from graph import gaps  # noqa: E402
from mdkg.settings import Settings  # noqa: E402

CONSENT = "ak:ratification, ak:accession, ak:succession, ak:acceptance, ak:approval, ak:formal-confirmation"
SIGNATURE = "ak:signature, ak:succession-to-signature"

# The textbook formulation: each status is one branch of a UNION, defined by what EXISTS and what does NOT
# EXIST: a party has a consent action on or before ?asOf that no denunciation (up to ?asOf) follows; a state
# that denounced is not a party but has a denunciation; a signatory has no consent and no denunciation but a
# signature; no-action has none. Same rules as status-as-of.rq; patterns written in the natural order (the
# state first). Each branch repeats the parameters and the state pattern, because a UNION branch is evaluated
# on its own and its EXISTS tests could not see variables bound outside it.
_PARTY = f"""
      ?c mdkg:state ?row ; mdkg:instrument ?instrument ; mdkg:actionKind ?k ; mdkg:actionDate ?d .
      FILTER (?d <= ?asOf && ?k IN ({CONSENT}))
      FILTER NOT EXISTS {{
        ?x mdkg:state ?row ; mdkg:instrument ?instrument ; mdkg:actionKind ak:denunciation ;
           mdkg:actionDate ?dd .
        FILTER (?dd >= ?d && ?dd <= ?asOf)
      }}"""
_BRANCHES = {
    "party": f"FILTER EXISTS {{{_PARTY}\n    }}",
    "denounced": f"""FILTER NOT EXISTS {{{_PARTY}
    }}
    FILTER EXISTS {{
      ?x mdkg:state ?row ; mdkg:instrument ?instrument ; mdkg:actionKind ak:denunciation ;
         mdkg:actionDate ?dd .
      FILTER (?dd <= ?asOf)
    }}""",
    "signatory": f"""FILTER NOT EXISTS {{
      ?c mdkg:state ?row ; mdkg:instrument ?instrument ; mdkg:actionKind ?k ; mdkg:actionDate ?d .
      FILTER (?d <= ?asOf && ?k IN ({CONSENT}, ak:denunciation))
    }}
    FILTER EXISTS {{
      ?s mdkg:state ?row ; mdkg:instrument ?instrument ; mdkg:actionKind ?k ; mdkg:actionDate ?d .
      FILTER (?d <= ?asOf && ?k IN ({SIGNATURE}))
    }}""",
    "no-action": f"""FILTER NOT EXISTS {{
      ?a mdkg:state ?row ; mdkg:instrument ?instrument ; mdkg:actionKind ?k ; mdkg:actionDate ?d .
      FILTER (?d <= ?asOf && ?k IN ({CONSENT}, {SIGNATURE}, ak:denunciation))
    }}
    FILTER EXISTS {{ ?instrument mdkg:recordCoverage "complete" }}""",
    # the record does not say: no action of the state on a record that is not complete
    "no-data": f"""FILTER NOT EXISTS {{
      ?a mdkg:state ?row ; mdkg:instrument ?instrument ; mdkg:actionKind ?k ; mdkg:actionDate ?d .
      FILTER (?d <= ?asOf && ?k IN ({CONSENT}, {SIGNATURE}, ak:denunciation))
    }}
    FILTER NOT EXISTS {{ ?instrument mdkg:recordCoverage "complete" }}""",
}
_HELD = {status: f"?period mdkg:recordHeld true .\n    {body}" for status, body in _BRANCHES.items()}
_HELD["no-data-former"] = "?period mdkg:recordHeld false ."
PLAIN = """PREFIX mdkg: <https://w3id.org/mdkg/ontology#>
PREFIX ak:   <https://w3id.org/mdkg/id/action-kind/>
PREFIX xsd:  <http://www.w3.org/2001/XMLSchema#>

SELECT ?instrument ?iso3 ?status
WHERE {
""" + "\n  UNION\n".join(f"""  {{
    VALUES ?instrument {{ <https://w3id.org/mdkg/id/icrmw> }}   # param
    VALUES ?asOf {{ "2005-10-01"^^xsd:date }}                   # param
    ?state a mdkg:State ;
           mdkg:iso3166Alpha3 ?iso3 ;
           mdkg:statehood ?period .
    ?period mdkg:startDate ?periodStart .
    OPTIONAL {{ ?period mdkg:endDate ?periodEnd }}
    FILTER (?periodStart <= ?asOf && (!BOUND(?periodEnd) || ?asOf <= ?periodEnd))
    OPTIONAL {{ ?period mdkg:actionsRecordedUnder ?under }}
    BIND (COALESCE(?under, ?state) AS ?row)
    {body}
    BIND ("{status.removesuffix('-former')}" AS ?status)
  }}""" for status, body in _HELD.items()) + "\n}\n"


def matrix(store: ox.Store, query: str) -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    for s in store.query(query, use_default_graph_as_union=True):
        key = (s["iso3"].value, s["instrument"].value)
        if key in out:
            raise AssertionError(f"two statuses for {key}: {out[key]} and {s['status'].value}")
        out[key] = s["status"].value
    return out


def timed(store: ox.Store, query: str) -> float:
    t0 = time.perf_counter()
    matrix(store, query)
    return time.perf_counter() - t0


def load(args: argparse.Namespace, settings: Settings) -> tuple[ox.Store, str]:
    if args.treaties_only:
        from rdflib import Dataset

        from ingest import states, treaties

        ds = Dataset()
        states.emit(ds, settings)
        treaties.emit(ds, settings)
        store = ox.Store()
        store.load(ds.serialize(format="nquads"), format=ox.RdfFormat.N_QUADS)
        return store, "states + treaty record (ingest/states.py, ingest/treaties.py), in memory"
    path = args.data or settings.dataset_file
    if not path.exists():
        sys.exit(f"no dataset at {path}: run `mdkg build`, pass --data FILE or use --treaties-only")
    return gaps.load_store(path), str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help="N-Quads/TriG dataset (default: the last build)")
    parser.add_argument("--treaties-only", action="store_true",
                        help="build the states + treaty record in memory")
    parser.add_argument("--runs", type=int, default=3,
                        help="timed runs of each formulation per date (default 3)")
    parser.add_argument("--as-of", action="append", type=dt.date.fromisoformat, dest="dates",
                        help="date(s) of the matrix (default 2005-10-01)")
    args = parser.parse_args(argv)
    dates = args.dates or [dt.date(2005, 10, 1)]
    settings = Settings.from_env()
    store, what = load(args, settings)
    infos = gaps.instruments(store, settings)
    iris = [ox.NamedNode(i.iri) for i in infos.values()]
    states = len({r.iso3 for r in gaps.status(store, next(iter(infos)), dates[0], settings)})  # of the first date
    print(f"dataset: {what} ({len(store)} quads)")
    print(f"matrix: {states} states x {len(iris)} instruments = {states * len(iris)} cells; "
          f"median of {args.runs} runs after the answer check; pyoxigraph {ox.__version__}")
    ok, ratios = True, []
    header = (f"{'as of':<12}{'queries/status-as-of.rq':>26}{'plain FILTER NOT EXISTS':>26}{'ratio':>9}"
              f"  same answer")
    print(header)
    print("-" * len(header))
    for on in dates:
        fast = gaps.bind(gaps.load_query("status-as-of", settings), instrument=iris, asOf=on)
        plain = gaps.bind(PLAIN, instrument=iris, asOf=on)
        a = matrix(store, fast)
        b = matrix(store, plain)
        states = len({iso3 for iso3, _ in a})  # the states that existed on this date (statehood)
        same = a == b and len(a) == states * len(iris)
        if not same:
            ok = False
            diff = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
            examples = [(k, a.get(k), b.get(k)) for k in diff[:5]]
            print(f"  DIFFERENT on {on}: {len(diff)} cells, e.g. {examples}")
        t_fast, t_plain = [], []
        for _ in range(args.runs):  # alternate, so that both see the same machine load
            t_fast.append(timed(store, fast))
            t_plain.append(timed(store, plain))
        m_fast, m_plain = statistics.median(t_fast), statistics.median(t_plain)
        ratios.append(m_plain / m_fast)
        counts = {s: sum(v == s for v in a.values()) for s in gaps.STATUSES}
        print(f"{on.isoformat():<12}{m_fast * 1000:>23.1f} ms{m_plain * 1000:>23.1f} ms"
              f"{m_plain / m_fast:>8.1f}x  {'yes' if same else 'NO'} {counts}")
    print(f"ratio plain / queries (geometric mean over dates): {statistics.geometric_mean(ratios):.1f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
