"""Lookups answered in the server process, without the hop to a query worker.

A worker isolates a query so that it can be stopped: killed at its deadline or past its memory, cut off from the
network. A lookup needs none of that: one triple pattern with its subject or object given reads one index range,
and an answer of at most `MAX_ROWS` rows is bounded work whatever the pattern. For such a query the hop (the pipe
both ways, pickling, two process wake-ups) cost about as much as the query itself (bench/sparql/floor.py).

What counts as a lookup is read from the query's tokens against a strict form; anything else, and any lookup that
matches more than `MAX_ROWS` rows, goes to a worker as before:

    [PREFIX p: <iri> | BASE <iri>]* SELECT (* | ?var+) [WHERE] { s p o [.] } [LIMIT n]

- s: a variable, an IRI or a prefixed name; p: the same or `a`; o: the same or a literal;
- s or o a constant, no variable twice (`?x <p> ?x` scans the whole predicate for few rows), and only the
  pattern's variables projected, each once;
- no DISTINCT, OFFSET or ORDER BY (each may read the whole range for a few rows), no FROM, no dataset in the
  request, and a local store only.

The query runs once, with `LIMIT MAX_ROWS + 1` added when it has no LIMIT, and the rows are written by the writer
a worker uses for a cut answer (`api.formats.write_solutions`). A lookup that would pass a cap (`max_rows`,
`max_bytes`), asks for a format that needs a worker's answer (406), holds a triple term or a literal with a base
direction (which Oxigraph's writers, a worker's, write in every format), or fails in any way goes to a worker, which
answers it as it answers every query.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox

from api import formats as F
from api.workers import BackendSpec, Job, Outcome, permuted, star_order
from graph.query_check import tokens
from graph.store import LocalBackend

log = logging.getLogger("mdkg.inline")

# Past this a lookup goes to a worker. The rows read here stop at MAX_ROWS + 1: at about 2-4 us a row, a text of
# the lookup form with many rows costs the server at most about what any request costs it (0.25 ms).
MAX_ROWS = 100
# Characters. A lookup is short; every query this long or shorter with one brace pair is tokenized on the event
# loop to find out (up to ~0.25 ms for a text dense in tokens), so longer texts are left to a worker unread.
MAX_LENGTH = 512
NODE = frozenset({"var", "iri", "pname"})


def _literal(toks: list[tuple[str, str]], i: int) -> int | None:
    """The index after a literal object starting at `i`, or None: "s", "s"@lang, "s"^^<dt>, a number, a boolean."""
    kind, text = toks[i]
    if kind == "number" or (kind == "word" and text in ("true", "false")):
        return i + 1
    if kind != "string":
        return None
    i += 1
    if i + 1 < len(toks) and toks[i] == ("op", "^^") and toks[i + 1][0] in ("iri", "pname"):
        return i + 2
    if i + 1 < len(toks) and toks[i] == ("other", "@") and toks[i + 1][0] == "word":
        i += 2
        while i + 1 < len(toks) and toks[i] == ("op", "-") and toks[i + 1][0] in ("word", "number"):
            i += 2
    return i


@dataclass(frozen=True)
class Lookup:
    order: tuple[str, ...]  # for SELECT *: the pattern's variables, in the order the answer lists them
    star: bool
    limit: int | None


def lookup_form(query: str) -> Lookup | None:
    """The lookup `query` is, if it has the strict form above (see the module docstring); else None."""
    if len(query) > MAX_LENGTH or query.count("{") != 1 or query.count("}") != 1:
        return None  # no lookup (a brace inside a string is left to a worker too), and not worth tokenizing
    return _lookup_form(query)


@lru_cache(maxsize=1024)  # clients repeat their lookups; MAX_LENGTH bounds what the cache holds
def _lookup_form(query: str) -> Lookup | None:
    toks = tokens(query)
    n, i = len(toks), 0

    def word(at: int, *names: str) -> bool:
        return at < n and toks[at][0] == "word" and toks[at][1].upper() in names

    while word(i, "PREFIX", "BASE"):
        if word(i, "PREFIX") and i + 2 < n and toks[i + 1][0] == "pname" and toks[i + 2][0] == "iri":
            i += 3
        elif word(i, "BASE") and i + 1 < n and toks[i + 1][0] == "iri":
            i += 2
        else:
            return None
    if not word(i, "SELECT"):
        return None
    i += 1
    star = i < n and toks[i] == ("op", "*")
    projected: list[str] = []
    if star:
        i += 1
    else:
        while i < n and toks[i][0] == "var":
            projected.append(toks[i][1][1:])
            i += 1
        if not projected:
            return None
    if word(i, "WHERE"):
        i += 1
    if i >= n or toks[i] != ("other", "{"):
        return None
    i += 1
    if i + 2 >= n or toks[i][0] not in NODE:
        return None
    s, p = toks[i], toks[i + 1]
    if not (p[0] in NODE or p == ("word", "a")):
        return None
    o_at = i + 2
    end = o_at + 1 if toks[o_at][0] in NODE else _literal(toks, o_at)
    if end is None:
        return None
    o = toks[o_at]
    variables = tuple(t[1][1:] for t in (s, p, o) if t[0] == "var")
    if len(set(variables)) != len(variables) or (s[0] == "var" and o[0] == "var"):
        return None
    # each column once and from the pattern: at most three columns, whatever the text (a thousand unbound
    # variables would cost the server milliseconds per request to write)
    if len(set(projected)) != len(projected) or not set(projected) <= set(variables):
        return None
    i = end
    if i < n and toks[i] == ("other", "."):
        i += 1
    if i >= n or toks[i] != ("other", "}"):
        return None
    i += 1
    limit = None
    if word(i, "LIMIT") and i + 1 < n and toks[i + 1][0] == "number" and toks[i + 1][1].isdigit():
        limit = int(toks[i + 1][1])
        i += 2
    return Lookup(variables, star, limit) if i == n else None


def _rdf12(term) -> bool:
    """A triple term or a literal with a base direction: Oxigraph's writers (a worker's) have the forms for these
    in every format, `api.formats.write_solutions` not all of them."""
    if isinstance(term, ox.Literal):
        return getattr(term, "direction", None) is not None
    return isinstance(term, ox.Triple)


class Inline:
    """Answers lookups from a read-only handle on the workers' store."""

    def __init__(self, spec: BackendSpec, backend: LocalBackend):
        self.spec = spec
        self._backend = backend
        self.answered = 0

    @classmethod
    def open(cls, spec: BackendSpec) -> Inline | None:
        """For a local store (opened here, at start-up: not on the event loop); None for a remote one, or if the
        store cannot be opened (every query then goes to a worker, which reports the problem)."""
        if spec.store_dir is None or spec.remote:
            return None
        try:
            return cls(spec, LocalBackend(spec.store_dir))
        except Exception as e:  # noqa: BLE001
            log.warning(
                "lookups will go to the workers: the store could not be opened here (%s: %s)", type(e).__name__, e
            )
            return None

    def answer(self, job: Job) -> Outcome | None:
        """The outcome of `job` if it is a lookup answered within the caps; None: a worker is to run it."""
        if job.dataset.default_graphs or job.dataset.named_graphs:
            return None
        form = lookup_form(job.query)
        fmt = F.BY_KEY.get(job.results_format or "")
        cap = min(MAX_ROWS, job.max_rows)
        if form is None or fmt is None or (form.limit is not None and form.limit > cap):
            return None
        text = job.query if form.limit is not None else f"{job.query}\nLIMIT {cap + 1}"
        try:
            result = self._backend.query(text, base_iri=job.base_iri, operation="SELECT")
            rows = [tuple(solution) for solution in itertools.islice(result, cap + 1)]
            if len(rows) > cap or any(_rdf12(t) for row in rows for t in row):
                return None
            variables = [v.value for v in result.variables]
            perm = star_order(variables, form.order) if form.star else None
            if perm is not None:  # in the order the pattern names them, as a worker lists them
                variables, rows = permuted(variables, rows, perm)
            body = F.write_solutions(variables, rows, fmt)
        except Exception as e:  # noqa: BLE001 - a worker runs it and answers whatever error it is
            log.debug("lookup sent to a worker after %s: %s", type(e).__name__, e)
            return None
        if len(body) > job.max_bytes:
            return None
        self.answered += 1
        return Outcome(200, body, fmt.content_type, kind=F.RESULTS)
