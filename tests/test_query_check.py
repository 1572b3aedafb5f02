"""graph.query_check on its own: the tokenizer cuts the text where Oxigraph does, the size measures see every way
of nesting, SERVICE targets come from a real parse, and the log filter drops floods."""

from __future__ import annotations

import logging

import pyoxigraph as ox
import pytest

from api.http_server import RateLimitedLog
from graph.query_check import (
    InvalidRequest,
    QueryRefused,
    check_services,
    check_shape,
    service_targets,
    shape,
)


@pytest.mark.parametrize(
    "query",
    [
        r"SELECT * WHERE { BIND(<http://a/\u0041#> AS ?a) SERVICE <http://x/> { ?s ?p ?o } }",
        r"SELECT * WHERE { BIND('\u0027' AS ?a) SERVICE <http://x/> { ?s ?p ?o } }",
        "SELECT * WHERE { # c\r SERVICE <http://x/> { ?s ?p ?o } }",
        r"PREFIX ex: <http://e/> SELECT * WHERE { ?s ex:a\#b ?o . SERVICE <http://x/> { ?s ?p ?o } }",
    ],
)
def test_the_tokens_see_service_where_oxigraph_does(query):
    assert shape(query).mentions_service
    with pytest.raises(QueryRefused):
        check_services(query, shape(query), ())


def test_service_inside_strings_iris_and_comments_is_text():
    query = 'SELECT ?x WHERE { BIND("SERVICE <http://x/>" AS ?x) FILTER(?x != <urn:SERVICE>) } # SERVICE <x>'
    assert not shape(query).mentions_service
    check_services(query, shape(query), ())  # 'service' appears, the parse finds no SERVICE clause


def test_oxigraph_reads_escapes_inside_iris_and_strings_only():
    """The premise of the tokenizer: Oxigraph does not unescape the query text before parsing."""
    store = ox.Store()
    with pytest.raises(SyntaxError):
        store.query(r"SELECT * WHERE { SERV\u0049CE <http://x/> { ?s ?p ?o } }")
    assert list(store.query(r"SELECT ?a WHERE { BIND('\u0027' AS ?a) }"))[0]["a"].value == "'"


@pytest.mark.parametrize(
    "query,expected",
    [
        ("PREFIX e: <http://h/> SELECT * WHERE { SERVICE e:sparql { ?s ?p ?o } }", ["http://h/sparql"]),
        ("PREFIX : <http://h/> SELECT * WHERE { SERVICE :q { ?s ?p ?o } }", ["http://h/q"]),
        ("BASE <http://h/> SELECT * WHERE { SERVICE <rel> { ?s ?p ?o } }", ["http://h/rel"]),
        ("SELECT * WHERE { VALUES ?e { <http://h/> } SERVICE ?e { ?s ?p ?o } }", [None]),
        ("ASK { FILTER EXISTS { SERVICE SILENT <http://h/> { ?s ?p ?o } } }", ["http://h/"]),
    ],
)
def test_service_targets_are_resolved_by_the_parse(query, expected):
    assert service_targets(query) == expected


def test_allowlist_admits_exactly_its_endpoints():
    query = "SELECT * WHERE { SERVICE <http://h/sparql> { ?s ?p ?o } }"
    check_services(query, shape(query), ("http://h/sparql",))
    with pytest.raises(QueryRefused):
        check_services(query.replace("sparql", "other"), shape(query), ("http://h/sparql",))


def test_allowlist_refuses_what_the_parse_cannot_read():
    query = r"SELECT * WHERE { BIND(<http://a/\u0041#> AS ?a) SERVICE <http://h/sparql> { ?s ?p ?o } }"
    with pytest.raises(QueryRefused, match="could not verify"):
        check_services(query, shape(query), ("http://h/sparql",))


@pytest.mark.parametrize(
    "query",
    [
        "ASK { FILTER(" + "!" * 150 + "true) }",
        "ASK { FILTER(" + "- " * 150 + "1 < 0) }",
        "ASK { FILTER(" + "(" * 150 + "true" + ")" * 150 + ") }",
        "ASK { ?s " + "/".join(["<http://p>"] * 2_500) + " ?o }",
        "ASK { " + " ".join(f"BIND({i} AS ?x{i})" for i in range(1_200)) + "}",
    ],
)
def test_limits_catch_every_way_of_growing(query):
    with pytest.raises(InvalidRequest, match="too complex"):
        check_shape(shape(query))


def test_ordinary_queries_are_within_limits():
    query = """PREFIX m: <https://w3id.org/mdkg/ontology#>
    SELECT ?s (COUNT(?o) AS ?n) WHERE { ?s a m:State ; m:partyTo ?o . FILTER(!BOUND(?x) && ?n > -1) }
    GROUP BY ?s ORDER BY DESC(?n) LIMIT 10"""
    info = shape(query)
    check_shape(info)
    assert info.operation == "SELECT" and not info.select_star


def test_select_star_variables_in_order_of_appearance():
    info = shape("SELECT * WHERE { ?zebra ?apple ?mango OPTIONAL { ?zebra ?b ?apple } }")
    assert info.select_star and info.variables == ["zebra", "apple", "mango", "b"]


def test_rate_limited_log_drops_a_flood_and_says_so():
    f = RateLimitedLog(burst=3, window=60)
    records = [logging.LogRecord("asyncio", logging.ERROR, "x", 1, "socket.accept() out of system resource",
                                 None, None) for _ in range(1000)]
    assert sum(f.filter(r) for r in records) == 3
    other = logging.LogRecord("asyncio", logging.ERROR, "x", 1, "something else", None, None)
    assert f.filter(other)
