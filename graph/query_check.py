"""What a SPARQL query must pass before it is evaluated, and what the facade needs to know of it.

Two tools, each used for what it can be trusted with (issue 11):
- a **tokenizer** that cuts the text where Oxigraph's parser does (comments, strings, IRIs with their `\\u`
  escapes) and measures the query's size and shape: bracket depth, runs of unary operators, the number of operators
  and graph-pattern keywords. Oxigraph's parser and evaluator recurse once per level of these; past a few thousand
  a worker's stack overflows (SIGSEGV). The limits are far above any real query and far below the crash;
- a **real parse** (rdflib's SPARQL 1.1 grammar) for the SERVICE clauses a query holds. It is not the guard against
  server-side requests: query workers run in a network namespace of their own and cannot connect anywhere
  (`api.sandbox`). It gives the client a clear refusal, and with `--allow-service` it is what keeps SERVICE to the
  allowlisted endpoints; a query it cannot parse is then refused rather than guessed at.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

# ---------------------------------------------------------------------------------------------- errors


class QuerySyntaxError(Exception):
    """The query does not parse; the message carries the parser's message with line:column."""


class InvalidRequest(Exception):
    """A request parameter or query that this endpoint does not accept (too complex, bad graph IRI...)."""


class QueryRefused(Exception):
    """The query asks for something this endpoint does not do (SERVICE, update...)."""


# ---------------------------------------------------------------------------------------------- tokenizer

_HEX4, _HEX8 = r"[0-9A-Fa-f]{4}", r"[0-9A-Fa-f]{8}"
_UCHAR = rf"\\u{_HEX4}|\\U{_HEX8}"
_PLX = r"(?:%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%])"
_PN = rf"(?:[\w\-\u00b7\u00c0-\uffff:]|{_PLX})"
_LOCAL = rf"(?:{_PN}(?:(?:{_PN}|\.)*{_PN})?)?"
_TOKEN_PATTERNS = (
    ("comment", r"#[^\r\n]*"),
    # each string pattern is followed by its unterminated form, which always matches: the text is cut in one pass
    ("string", r"'''(?:[^'\\]|\\.|'(?!''))*'''"),
    ("open", r"'''(?:[^'\\]|\\.|'(?!''))*\\?"),
    ("string", r'"""(?:[^"\\]|\\.|"(?!""))*"""'),
    ("open", r'"""(?:[^"\\]|\\.|"(?!""))*\\?'),
    ("string", r"'(?:[^'\\\n\r]|\\.)*'"),
    ("open", r"'(?:[^'\\\n\r]|\\.)*\\?"),
    ("string", r'"(?:[^"\\\n\r]|\\.)*"'),
    ("open", r'"(?:[^"\\\n\r]|\\.)*\\?'),
    # Oxigraph reads \uXXXX inside an IRI as an escape (it does not unescape the query text first): so must we
    ("iri", rf'<(?:[^<>"{{}}|^`\\\x00-\x20]|{_UCHAR})*>'),
    ("var", r"[?$][A-Za-z0-9_\u00b7\u00c0-\uffff]+"),
    # a prefix starts where a run of name characters starts (the look-behind keeps the scan linear)
    ("pname", r"(?:(?<![\w.\-\u00b7\u00c0-\uffff])[A-Za-z\u00c0-\uffff][\w.\-\u00b7\u00c0-\uffff]*?)?:" + _LOCAL),
    ("word", r"[A-Za-z_][A-Za-z0-9_]*"),
    ("number", r"[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?"),
    ("quoted", r"<<\(?|\)?>>"),  # RDF-star / RDF 1.2 triple terms nest like brackets
    ("op", r"&&|\|\||!=|<=|>=|\^\^|[!=<>+\-*/|^]"),
    ("other", r"\S"),
)
_TOKEN = re.compile(
    "|".join(f"(?P<{name}{i}>{pattern})" for i, (name, pattern) in enumerate(_TOKEN_PATTERNS)), re.DOTALL
)
_KIND = {f"{name}{i}": name for i, (name, _) in enumerate(_TOKEN_PATTERNS)}

UPDATE_KEYWORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"})
# Keywords that each add a node to the query's algebra tree (a join, a left join, a filter...).
PATTERN_KEYWORDS = frozenset(
    {"OPTIONAL", "UNION", "MINUS", "BIND", "FILTER", "GRAPH", "SERVICE", "EXISTS", "SELECT", "VALUES"}
)
UNARY_AFTER = frozenset({"(", "!", "&&", "||", "=", "!=", "<", ">", "<=", ">=", "+", "-", "*", "/", ",", "|", "^"})


@dataclass(frozen=True)
class Limits:
    """How big a query may be. Measured crash points of pyoxigraph 0.5 on an 8 MiB stack: ~10,000 nested
    brackets, `!` or `&&` terms, ~3,000 BINDs, ~1,000 nested EXISTS; workers run on a 256 MiB stack besides."""

    depth: int = 100  # nesting of brackets plus runs of unary operators
    operators: int = 2_000  # operators in expressions and property paths
    patterns: int = 1_000  # OPTIONAL, UNION, MINUS, BIND, FILTER, GRAPH, SERVICE, EXISTS, sub-SELECT, VALUES


@dataclass
class QueryShape:
    """What the facade needs to know of a query before running it."""

    operation: str = ""  # the first keyword after the prologue: SELECT, ASK, ..., or an update's INSERT, DROP...
    has_dataset_clause: bool = False  # FROM / FROM NAMED
    mentions_service: bool = False  # a SERVICE keyword outside strings, IRIs and comments
    unterminated: bool = False  # a string that does not end
    depth: int = 0
    operators: int = 0
    patterns: int = 0
    variables: list[str] = field(default_factory=list)  # projected variables of SELECT * in order of appearance
    select_star: bool = False

    @property
    def is_update(self) -> bool:
        return self.operation in UPDATE_KEYWORDS


def tokens(query: str) -> list[tuple[str, str]]:
    return [(_KIND[m.lastgroup], m.group()) for m in _TOKEN.finditer(query) if _KIND[m.lastgroup] != "comment"]


def shape(query: str) -> QueryShape:
    """One pass over the tokens: operation, dataset clause, size measures, variables in order of appearance."""
    info = QueryShape()
    level = unary_run = 0
    previous = "("
    seen_vars: dict[str, None] = {}
    after_select = False
    for kind, text in tokens(query):
        upper = text.upper() if kind == "word" else ""
        if kind == "open":
            info.unterminated = True
        elif kind == "other" and text in "{([":
            level += 1
        elif kind == "other" and text in "})]":
            level -= 1
        elif kind == "quoted":
            level += 1 if text.startswith("<") else -1
        elif kind == "op":
            info.operators += 1
            # a prefix operator nests like a bracket: `!!!!x` is as deep as `((((x))))`
            unary_run = unary_run + 1 if text in "!+-" and previous in UNARY_AFTER else 0
        elif kind == "var":
            seen_vars.setdefault(text[1:], None)
        elif kind == "word":
            if not info.operation and upper not in ("PREFIX", "BASE"):
                info.operation = upper
                after_select = upper == "SELECT"
            elif after_select and upper not in ("DISTINCT", "REDUCED"):
                after_select = False
            if upper == "FROM":
                info.has_dataset_clause = True
            elif upper == "SERVICE":
                info.mentions_service = True
            if upper in PATTERN_KEYWORDS:
                info.patterns += 1
        if text == "*" and after_select:
            info.select_star = True
            after_select = False
        if kind != "op":
            unary_run = 0
        info.depth = max(info.depth, level + unary_run)
        previous = text
    info.variables = list(seen_vars)
    return info


def check_shape(info: QueryShape, limits: Limits = Limits()) -> None:
    if info.unterminated:
        raise QuerySyntaxError("unterminated string literal")
    for what, value, limit, unit in (
        ("nests", info.depth, limits.depth, "levels of brackets and prefix operators"),
        ("has", info.operators, limits.operators, "operators in expressions and property paths"),
        ("has", info.patterns, limits.patterns, "graph-pattern keywords (OPTIONAL, UNION, FILTER, BIND...)"),
    ):
        if value > limit:
            raise InvalidRequest(
                f"query too complex: it {what} {value} {unit}; this endpoint accepts at most {limit}. "
                "Split it into smaller queries."
            )


# ---------------------------------------------------------------------------------------------- SERVICE


def service_targets(query: str) -> list[str | None]:
    """The endpoint of every SERVICE clause (None: a variable), from rdflib's parse of the query.

    Raises QuerySyntaxError when rdflib cannot parse the query."""
    from rdflib.plugins.sparql.algebra import translatePrologue, traverse
    from rdflib.plugins.sparql.parser import parseQuery
    from rdflib.plugins.sparql.parserutils import CompValue
    from rdflib.term import URIRef, Variable

    try:
        tree = parseQuery(query)
        prologue = translatePrologue(tree[0], None)
    except Exception as e:  # noqa: BLE001 - pyparsing, recursion and rdflib's own errors alike
        raise QuerySyntaxError(f"{type(e).__name__}: {e}") from None
    found: list[str | None] = []

    def visit(node):
        if isinstance(node, CompValue) and node.name == "ServiceGraphPattern":
            term = node.get("term")
            if isinstance(term, Variable):
                found.append(None)
            elif isinstance(term, CompValue) and term.name == "pname":
                # dict.get: CompValue.get answers a missing key with the key's own name
                prefix, local = dict.get(term, "prefix") or "", dict.get(term, "localname") or ""
                found.append(str(prologue.resolvePName(prefix, local)))
            elif isinstance(term, URIRef):
                found.append(str(prologue.absolutize(term)))
            else:
                found.append(str(term))
        return None

    try:
        traverse(tree, visit)
    except Exception as e:  # noqa: BLE001 - an undeclared prefix, a bad IRI: rdflib's errors are of many types
        raise QuerySyntaxError(f"{type(e).__name__}: {e}") from None
    return found


def check_services(query: str, info: QueryShape, allowlist: Sequence[str]) -> None:
    """Refuse SERVICE unless every target, found by a real parse, is an allowlisted endpoint IRI.

    Without an allowlist a query the parse cannot read goes on to Oxigraph, whose workers have no network;
    with one, it is refused: the allowlist is only as good as the parse that applies it."""
    if not info.mentions_service and "service" not in query.lower():
        return  # a SERVICE keyword cannot be written without these letters (Oxigraph does not unescape keywords)
    try:
        targets = service_targets(query)
    except QuerySyntaxError as e:
        if allowlist:
            raise QueryRefused(
                "this endpoint allows SERVICE only to the endpoints it lists and could not verify the SERVICE "
                f"clauses of this query ({str(e)[:200]})"
            ) from None
        targets = []  # Oxigraph decides whether it parses; its workers cannot connect anyway
    if info.mentions_service and not targets:
        targets = [None]  # the tokens see a SERVICE the parse does not: refuse rather than guess
    for target in targets:
        if target is None:
            raise QueryRefused(
                "SERVICE is not allowed on this endpoint"
                + (" except to the endpoints it allowlists, by IRI" if allowlist else " (federated queries are off)")
            )
        if target not in allowlist:
            raise QueryRefused(
                f"SERVICE <{target}> is not allowed: federated queries are disabled on this "
                "endpoint except to the endpoints it allowlists"
            )
