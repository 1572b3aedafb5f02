"""The stores behind the SPARQL endpoint.

Embedded: an Oxigraph store (pyoxigraph, RocksDB on disk) loaded once from a dataset file of any RDF format
(N-Quads, TriG, Turtle, N-Triples, RDF/XML, JSON-LD, N3; optionally gzipped). Query workers open it
read-only. The default graph a query sees is the union of all the graphs of the file (named graphs and, for a
triples file, its default graph), unless the query (FROM) or the protocol (default-graph-uri, named-graph-uri)
names a dataset.

Remote: any SPARQL 1.1 server (Oxigraph server, Virtuoso, Fuseki, GraphDB, QLever...) queried over the SPARQL
Protocol, and loaded with `push_dataset` over the Graph Store Protocol. Configure the remote server so that
its default graph is the union of its named graphs (e.g. `oxigraph serve --union-default-graph`).

Both backends answer `query()` with pyoxigraph result objects (QuerySolutions, QueryBoolean, or an iterable
of Triples), so the facade serialises, caps and negotiates the same way whatever the store.
"""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pyoxigraph as ox

from graph.query_check import InvalidRequest, QuerySyntaxError, shape

__all__ = ["InvalidRequest", "QuerySyntaxError"]  # errors of a query, raised here too

# ---------------------------------------------------------------------------------------------- errors


class StoreError(Exception):
    """A dataset file that cannot be loaded, or a store that cannot be opened; the message is for people."""


class RemoteError(Exception):
    """The remote SPARQL server answered with an error or could not be reached."""

    def __init__(self, message: str, status: int = 502):
        super().__init__(message)
        self.status = status


# ---------------------------------------------------------------------------------------------- files

_EXTENSION_ALIASES = {
    "nq": "nq",
    "nquads": "nq",
    "trig": "trig",
    "ttl": "ttl",
    "turtle": "ttl",
    "nt": "nt",
    "ntriples": "nt",
    "rdf": "rdf",
    "owl": "rdf",
    "xml": "rdf",
    "jsonld": "jsonld",
    "json": "jsonld",
    "n3": "n3",
}


def rdf_format_of(path: Path) -> tuple[ox.RdfFormat, bool]:
    """The RDF format of a file from its name (`x.nq`, `x.ttl.gz`...), and whether it is gzipped."""
    suffixes = [s.lstrip(".").lower() for s in path.suffixes]
    compressed = bool(suffixes) and suffixes[-1] == "gz"
    if compressed:
        suffixes = suffixes[:-1]
    ext = _EXTENSION_ALIASES.get(suffixes[-1] if suffixes else "")
    fmt = ox.RdfFormat.from_extension(ext) if ext else None
    if fmt is None:
        known = ", ".join(sorted({f".{e}" for e in _EXTENSION_ALIASES}))
        raise StoreError(
            f"{path}: cannot tell the RDF format from the file name (known: {known}, optionally .gz)"
        )
    return fmt, compressed


def load_dataset(data_file: Path, directory: Path) -> int:
    """Load `data_file` into a fresh on-disk Oxigraph store at `directory`; returns the number of quads.

    Raises StoreError with a readable message if the file is missing, unreadable or not valid RDF."""
    data_file = Path(data_file)
    if not data_file.is_file():
        raise StoreError(f"{data_file}: no such dataset file (run `mdkg build`, or pass --data FILE)")
    fmt, compressed = rdf_format_of(data_file)
    directory = Path(directory)
    if directory.exists():
        shutil.rmtree(directory)
    store = ox.Store(str(directory))
    base = data_file.resolve().as_uri()
    try:
        if compressed:
            with gzip.open(data_file, "rb") as f:
                store.bulk_load(input=f, format=fmt, base_iri=base)
        else:
            store.bulk_load(path=str(data_file), format=fmt, base_iri=base)
        store.flush()
        count = len(store)
    except SyntaxError as e:
        raise StoreError(f"{data_file}: not valid {fmt.name}: {e}") from None
    except (OSError, EOFError, ValueError) as e:
        raise StoreError(f"{data_file}: cannot be loaded: {e}") from None
    finally:
        del store
    if count == 0:
        raise StoreError(f"{data_file}: contains no RDF statements (an empty or truncated file?)")
    return count


def open_read_only(directory: Path) -> ox.Store:
    try:
        return ox.Store.read_only(str(directory))
    except OSError as e:
        raise StoreError(f"{directory}: cannot open the store: {e}") from None


# ---------------------------------------------------------------------------------------------- backends


@dataclass(frozen=True)
class Dataset:
    """The RDF dataset of one request, from the protocol parameters (empty: as the query/server says)."""

    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.default_graphs or self.named_graphs)


def _node(iri: str) -> ox.NamedNode:
    try:
        return ox.NamedNode(iri)
    except ValueError:
        raise InvalidRequest(f"not a valid graph IRI: {iri!r}") from None


class LocalBackend:
    """Queries an Oxigraph store opened read-only from `directory` (as loaded by `load_dataset`)."""

    def __init__(self, directory: Path):
        self.store = open_read_only(directory)

    def query(self, query: str, dataset: Dataset = Dataset(), base_iri: str | None = None, has_from: bool = False,
              operation: str | None = None):
        """`has_from`: the query names its own dataset (FROM); else the default graph is the union of all.
        `operation` (SELECT, CONSTRUCT...: `QueryShape.operation`) is for RemoteBackend; Oxigraph reads it itself."""
        kwargs: dict = {}
        if dataset:
            kwargs["default_graph"] = [_node(g) for g in dataset.default_graphs]
            kwargs["named_graphs"] = [_node(g) for g in dataset.named_graphs]
        elif not has_from:
            kwargs["use_default_graph_as_union"] = True
        try:
            return self.store.query(query, base_iri=base_iri, **kwargs)
        except SyntaxError as e:
            raise QuerySyntaxError(str(e)) from None

    def named_graphs(self) -> list[str]:
        return sorted(g.value for g in self.store.named_graphs() if isinstance(g, ox.NamedNode))

    def dump(self, destination: Path, fmt: ox.RdfFormat) -> None:
        self.store.dump(output=str(destination), format=fmt)

    def close(self) -> None:
        del self.store


# Media types asked of a remote server, best first; each response is parsed with pyoxigraph.
REMOTE_ACCEPT = (
    "application/sparql-results+json, application/sparql-results+xml;q=0.9, "
    "application/n-triples;q=0.9, text/turtle;q=0.8, application/rdf+xml;q=0.5, "
    "text/tab-separated-values;q=0.3"
)
# For CONSTRUCT and DESCRIBE: graph formats only (Virtuoso answers a CONSTRUCT in the first type listed, results
# formats included, as ?s ?p ?o solutions).
REMOTE_ACCEPT_GRAPH = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"


class RemoteBackend:
    """Queries a remote SPARQL 1.1 endpoint; results come back as pyoxigraph objects like LocalBackend's."""

    def __init__(
        self,
        endpoint: str,
        timeout: float = 60.0,
        headers: dict[str, str] | None = None,
        max_response_bytes: int = 512 * 1024 * 1024,
    ):
        import httpx

        self.endpoint = endpoint
        self.max_response_bytes = max_response_bytes
        self.client = httpx.Client(timeout=timeout, headers=headers or {}, follow_redirects=True)

    def query(self, query: str, dataset: Dataset = Dataset(), base_iri: str | None = None, has_from: bool = False,
              operation: str | None = None):
        """`operation`: the query's form as the caller's scan found it (`QueryShape.operation`); else scanned here."""
        import httpx

        graph_form = (operation or shape(query).operation) in ("CONSTRUCT", "DESCRIBE")
        form = [("query", query)]
        form += [("default-graph-uri", g) for g in dataset.default_graphs]
        form += [("named-graph-uri", g) for g in dataset.named_graphs]
        try:
            with self.client.stream(
                "POST",
                self.endpoint,
                content=urlencode(form).encode("ascii"),
                headers={
                    "Accept": REMOTE_ACCEPT_GRAPH if graph_form else REMOTE_ACCEPT,
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            ) as r:
                body = bytearray()
                for chunk in r.iter_bytes():
                    body += chunk
                    if len(body) > self.max_response_bytes:
                        raise RemoteError(
                            "the remote server's answer is larger than this endpoint accepts", 502
                        )
                status, media = r.status_code, r.headers.get("content-type", "")
                partial = r.headers.get("x-sql-state")  # Virtuoso's "anytime" answer: cut at its time limit
        except httpx.HTTPError as e:
            raise RemoteError(
                f"the remote SPARQL server cannot be reached: {type(e).__name__}", 502
            ) from None
        text = bytes(body)
        if partial and status < 400:  # a partial answer passed on as whole would be a wrong answer
            raise RemoteError(
                f"the remote server stopped the query at its time limit and sent a partial answer ({partial}: "
                f"{r.headers.get('x-sql-message', '')[:200]}); it is not passed on",
                503,
            )
        if status == 400:
            raise QuerySyntaxError(_short(text) or "the remote server refused the query (400)")
        if status >= 400:
            raise RemoteError(
                f"the remote SPARQL server answered {status}: {_short(text)}",
                status if status in (403, 404, 406, 413, 414, 415, 503) else 502,
            )
        return parse_remote_answer(text, media)

    def close(self) -> None:
        self.client.close()


def _short(body: bytes, limit: int = 2000) -> str:
    return body[:limit].decode("utf-8", "replace").strip()


# Virtuoso (7.2) answers ASK as a one-row SELECT of this variable holding 1 or 0, whatever the format asked.
VIRTUOSO_ASK_VARIABLE = "__ASK_RETVAL"


def parse_remote_answer(body: bytes, media_type: str):
    mt = media_type.split(";", 1)[0].strip().lower()
    results_format = ox.QueryResultsFormat.from_media_type(mt) if mt else None
    if results_format is not None:
        try:
            results = ox.parse_query_results(body, format=results_format)
        except SyntaxError as e:
            raise RemoteError(f"the remote server sent invalid {results_format.name} results: {e}") from None
        if isinstance(results, ox.QuerySolutions) and [v.value for v in results.variables] == [
            VIRTUOSO_ASK_VARIABLE
        ]:
            truth = any(s[0] is not None and s[0].value not in ("0", "false") for s in results)
            return ox.parse_query_results(
                b'{"head":{},"boolean":%s}' % (b"true" if truth else b"false"), format=ox.QueryResultsFormat.JSON
            )
        return results
    rdf_format = ox.RdfFormat.from_media_type(mt) if mt else None
    if rdf_format is None:
        raise RemoteError(f"the remote server answered with an unsupported media type {mt!r}")
    try:
        return RemoteTriples([q.triple for q in ox.parse(body, format=rdf_format)])
    except SyntaxError as e:
        raise RemoteError(f"the remote server sent invalid {rdf_format.name}: {e}") from None


class RemoteTriples(list):
    """A CONSTRUCT/DESCRIBE answer of a remote server, iterated like pyoxigraph's QueryTriples."""


def is_triples(result) -> bool:
    return isinstance(result, ox.QueryTriples | RemoteTriples)


# ------------------------------------------------------------------------------------ Graph Store Protocol


@dataclass
class PushedGraph:
    graph: str | None  # None: the default graph
    triples: int
    status: int


def graphs_of(data_file: Path) -> Iterator[tuple[str | None, bytes, int]]:
    """(graph IRI, or None for the default graph; its N-Triples; triple count) for each graph of a file."""
    fmt, compressed = rdf_format_of(Path(data_file))
    if not Path(data_file).is_file():
        raise StoreError(f"{data_file}: no such dataset file")
    store = ox.Store()
    try:
        if compressed:
            with gzip.open(data_file, "rb") as f:
                store.bulk_load(input=f, format=fmt, base_iri=Path(data_file).resolve().as_uri())
        else:
            store.bulk_load(path=str(data_file), format=fmt, base_iri=Path(data_file).resolve().as_uri())
    except SyntaxError as e:
        raise StoreError(f"{data_file}: not valid {fmt.name}: {e}") from None
    graphs: list[ox.NamedNode | ox.BlankNode | ox.DefaultGraph] = [ox.DefaultGraph()]
    graphs += sorted(store.named_graphs(), key=str)
    for g in graphs:
        body = store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=g)
        count = body.count(b"\n")
        if isinstance(g, ox.DefaultGraph):
            if count:
                yield None, body, count
        elif isinstance(g, ox.NamedNode):
            yield g.value, body, count


def push_dataset(
    data_file: Path,
    gsp_url: str,
    replace: bool = True,
    headers: dict[str, str] | None = None,
    timeout: float = 600.0,
    auth=None,
    batch: int = 100_000,
) -> list[PushedGraph]:
    """Send every graph of `data_file` to a Graph Store Protocol endpoint (PUT to replace, POST to add).

    A graph larger than `batch` triples and without blank nodes goes in several requests (the first PUT when
    replacing, then POSTs), so that no server has to take one huge body in one transaction.
    `auth`: an httpx auth (see graph.load)."""
    import httpx

    pushed = []
    with httpx.Client(timeout=timeout, headers=headers or {}, auth=auth) as client:
        for graph, body, count in graphs_of(data_file):
            params = {"graph": graph} if graph is not None else {"default": ""}
            status = 0
            # blank node labels hold within one request only: a graph with blank nodes goes whole
            parts = [body] if b"_:" in body else _batches(body, batch)
            for i, part in enumerate(parts):
                try:
                    r = client.request(
                        "PUT" if replace and i == 0 else "POST",
                        gsp_url,
                        params=params,
                        content=part,
                        headers={"Content-Type": "application/n-triples"},
                    )
                except httpx.HTTPError as e:
                    raise RemoteError(f"{gsp_url}: cannot be reached: {type(e).__name__}: {e}") from None
                if r.status_code >= 300:
                    raise RemoteError(
                        f"{gsp_url}: graph {graph or 'default'} refused with {r.status_code}: "
                        f"{_short(r.content, 500)}",
                        r.status_code,
                    )
                status = status or r.status_code
            pushed.append(PushedGraph(graph, count, status))
    return pushed


def _batches(ntriples: bytes, size: int) -> Iterator[bytes]:
    """N-Triples text in pieces of at most `size` lines (whole lines: one triple each)."""
    lines = ntriples.splitlines(keepends=True)
    for start in range(0, max(len(lines), 1), max(size, 1)):
        yield b"".join(lines[start : start + size])


def iter_limited(items: Iterable, limit: int) -> tuple[list, bool]:
    """At most `limit` items, and whether there were more."""
    out = []
    for item in items:
        if len(out) >= limit:
            return out, True
        out.append(item)
    return out, False
