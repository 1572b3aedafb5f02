"""Benchmark: the full treaty-status matrix (every state x every instrument) on a date, computed by
queries/status-as-of.rq (one grouped pass: per state and instrument, the latest consent, signature and
denunciation date, then a status from them) against a plain FILTER NOT EXISTS formulation (four UNION branches:
party / denounced / signatory / no-action, each defined by (NOT) EXISTS tests), on the same pyoxigraph store.

    .venv/bin/python bench/gaps/bench_matrix.py                  # the default build (build/current/mdkg.nq)
    .venv/bin/python bench/gaps/bench_matrix.py --data FILE.nq --runs 9 --as-of 2005-10-01 --as-of 2026-02-03
    .venv/bin/python bench/gaps/bench_matrix.py --treaties-only  # states + treaty record only, built in memory

For each date it first checks that both formulations give the same status for every (state, instrument), then
times N runs of each (alternating, after one warm-up run each) and prints the medians and the ratio
plain / queries. Exit status 1 if the answers differ."""

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
from mdkg.settings import SETTINGS  # noqa: E402

CONSENT = "ak:ratification, ak:accession, ak:succession, ak:acceptance, ak:approval, ak:formal-confirmation"
SIGNATURE = "ak:signature, ak:succession-to-signature"

# The textbook formulation: a state is a party if it has a consent action on or before ?asOf not followed (up
# to ?asOf) by a denunciation; the other statuses are defined by what does NOT EXIST. Same rules as
# status-as-of.rq (see that file); patterns written in the natural order (the state first).
PLAIN = f"""
PREFIX mdkg: <https://w3id.org/mdkg/ontology#>
PREFIX ak:   <https://w3id.org/mdkg/id/action-kind/>
PREFIX xsd:  <http://www.w3.org/2001/XMLSchema#>

SELECT ?instrument ?iso3 ?status
WHERE {{
  VALUES ?instrument {{ <https://w3id.org/mdkg/id/icrmw> }}   # param
  VALUES ?asOf {{ "2005-10-01"^^xsd:date }}                   # param
  ?state a mdkg:State ;
         mdkg:iso3166Alpha3 ?iso3 .
  VALUES ?status {{ "party" "denounced" "signatory" "no-action" }}
  FILTER (
    # party: a consent on or before ?asOf that NO denunciation (up to ?asOf) follows
    (?status = "party" && EXISTS {{
      ?c mdkg:state ?state ; mdkg:instrument ?instrument ; mdkg:actionKind ?k ; mdkg:actionDate ?d .
      FILTER (?d <= ?asOf && ?k IN ({CONSENT}))
      FILTER NOT EXISTS {{
        ?x mdkg:state ?state ; mdkg:instrument ?instrument ; mdkg:actionKind ak:denunciation ; mdkg:actionDate ?dd .
        FILTER (?dd >= ?d && ?dd <= ?asOf)
      }}
    }})
    # denounced: not a party, and a denunciation on or before ?asOf
    || (?status = "denounced" && NOT EXISTS {{
      ?c mdkg:state ?state ; mdkg:instrument ?instrument ; mdkg:actionKind ?k ; mdkg:actionDate ?d .
      FILTER (?d <= ?asOf && ?k IN ({CONSENT}))
      FILTER NOT EXISTS {{
        ?x mdkg:state ?state ; mdkg:instrument ?instrument ; mdkg:actionKind ak:denunciation ; mdkg:actionDate ?dd .
        FILTER (?dd >= ?d && ?dd <= ?asOf)
      }}
    }} && EXISTS {{
      ?x mdkg:state ?state ; mdkg:instrument ?instrument ; mdkg:actionKind ak:denunciation ; mdkg:actionDate ?dd .
      FILTER (?dd <= ?asOf)
    }})
    # signatory: no consent and no denunciation on or before ?asOf, but a signature
    || (?status = "signatory" && NOT EXISTS {{
      ?c mdkg:state ?state ; mdkg:instrument ?instrument ; mdkg:actionKind ?k ; mdkg:actionDate ?d .
      FILTER (?d <= ?asOf && ?k IN ({CONSENT}, ak:denunciation))
    }} && EXISTS {{
      ?s mdkg:state ?state ; mdkg:instrument ?instrument ; mdkg:actionKind ?k ; mdkg:actionDate ?d .
      FILTER (?d <= ?asOf && ?k IN ({SIGNATURE}))
    }})
    # no-action: no action at all on or before ?asOf
    || (?status = "no-action" && NOT EXISTS {{
      ?a mdkg:state ?state ; mdkg:instrument ?instrument ; mdkg:actionKind ?k ; mdkg:actionDate ?d .
      FILTER (?d <= ?asOf && ?k IN ({CONSENT}, {SIGNATURE}, ak:denunciation))
    }})
  )
}}
"""


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


def load(args: argparse.Namespace) -> tuple[ox.Store, str]:
    if args.treaties_only:
        from rdflib import Dataset

        from ingest import states, treaties

        ds = Dataset()
        states.emit(ds, SETTINGS)
        treaties.emit(ds, SETTINGS)
        store = ox.Store()
        store.load(ds.serialize(format="nquads"), format=ox.RdfFormat.N_QUADS)
        return store, "states + treaty record (ingest/states.py, ingest/treaties.py), in memory"
    path = args.data or SETTINGS.dataset_file
    if not path.exists():
        sys.exit(f"no dataset at {path}: run `mdkg build`, pass --data FILE or use --treaties-only")
    return gaps.load_store(path), str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, help=f"N-Quads/TriG dataset (default {SETTINGS.dataset_file})")
    parser.add_argument("--treaties-only", action="store_true", help="build the states + treaty record in memory")
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each formulation per date (default 7)")
    parser.add_argument("--as-of", action="append", type=dt.date.fromisoformat, dest="dates",
                        help="date(s) of the matrix (default 2005-10-01 and 2026-02-03)")
    args = parser.parse_args(argv)
    dates = args.dates or [dt.date(2005, 10, 1), dt.date(2026, 2, 3)]
    store, what = load(args)
    infos = gaps.instruments(store)
    iris = [ox.NamedNode(i.iri) for i in infos.values()]
    states = int(next(iter(store.query("SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a "
                                       "<https://w3id.org/mdkg/ontology#State> }",
                                       use_default_graph_as_union=True)))["n"].value)
    print(f"dataset: {what} ({len(store)} quads)")
    print(f"matrix: {states} states x {len(iris)} instruments = {states * len(iris)} cells; "
          f"median of {args.runs} runs after 1 warm-up; pyoxigraph {ox.__version__}")
    ok, ratios = True, []
    header = f"{'as of':<12}{'queries/status-as-of.rq':>26}{'plain FILTER NOT EXISTS':>26}{'ratio':>9}  same answer"
    print(header)
    print("-" * len(header))
    for on in dates:
        fast = gaps.bind(gaps.load_query("status-as-of"), instrument=iris, asOf=on)
        plain = gaps.bind(PLAIN, instrument=iris, asOf=on)
        a = {k: v for k, v in matrix(store, fast).items()}
        b = matrix(store, plain)
        same = a == b and len(a) == states * len(iris)
        if not same:
            ok = False
            diff = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
            print(f"  DIFFERENT on {on}: {len(diff)} cells, e.g. {[(k, a.get(k), b.get(k)) for k in diff[:5]]}")
        t_fast, t_plain = [], []
        for _ in range(args.runs):  # alternate, so that both see the same machine load
            t_fast.append(timed(store, fast))
            t_plain.append(timed(store, plain))
        m_fast, m_plain = statistics.median(t_fast), statistics.median(t_plain)
        ratios.append(m_plain / m_fast)
        counts = {s: sum(v == s for v in a.values()) for s in gaps.STATUSES}
        print(f"{on.isoformat():<12}{m_fast * 1000:>23.1f} ms{m_plain * 1000:>23.1f} ms{m_plain / m_fast:>8.1f}x  "
              f"{'yes' if same else 'NO'} {counts}")
    print(f"ratio plain / queries (geometric mean over dates): {statistics.geometric_mean(ratios):.1f}x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
