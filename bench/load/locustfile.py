"""Mixed workload against a live mdkg server (run by bench/load/run.py, or `locust -f` by hand).

Request kinds (locust names): page-entity, page-home, rest-stakeholders, rest-entity, rest-gaps, rest-network,
sparql-cheap, sparql-expensive. An expensive query is one that runs into the server's deadline: its documented
answers are 503 (deadline passed, query killed) and 429 (admission limit, with Retry-After); both count as
served correctly, anything else as an error.

Every user connects from a loopback address of its own (127.0.1.N), as twelve people's clients would: the server
shares its workers per client address (api/workers.py: no one address holds the reserved worker, a client whose
queries were killed twice in a minute has all its queries run in the slow lane). From one address for all, the
analysts would be one client, queued behind each other on the one worker the heavy users leave to a single client,
and made heavy by the heavy users' killed cross products. `--one-address` in run.py measures that set-up."""

from __future__ import annotations

import itertools
import os
import random

from locust import HttpUser, between, task
from requests.adapters import HTTPAdapter

ENTITIES = ["iom", "ilo", "undp", "world-bank", "gfmd", "icrmw", "mida", "afford", "south-centre", "state/MEX",
            "state/PHL", "state/IND"]
CHEAP = [
    "ASK { ?s ?p ?o }",
    "SELECT ?s ?label WHERE { ?s a <https://w3id.org/mdkg/ontology#DiasporaOrganisation> ; "
    "<http://www.w3.org/2000/01/rdf-schema#label> ?label } LIMIT 20",
    "SELECT (COUNT(*) AS ?n) WHERE { ?a a <https://w3id.org/mdkg/ontology#TreatyAction> }",
]
# Three-way cross product over all triples: far past any deadline.
EXPENSIVE = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


class FromAddress(HTTPAdapter):
    """Connections from one local address (a loopback address other than 127.0.0.1: another client)."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs, source_address=(self.address, 0))


ADDRESSES = (f"127.0.1.{n}" for n in itertools.count(1))
ONE_ADDRESS = os.environ.get("MDKG_LOAD_ONE_ADDRESS") == "1"  # every user from 127.0.0.1, as before


class User(HttpUser):
    abstract = True

    def on_start(self) -> None:
        if not ONE_ADDRESS:
            self.client.mount("http://", FromAddress(next(ADDRESSES)))


class Analyst(User):
    """Browses pages and calls the REST API."""

    wait_time = between(0.05, 0.2)
    weight = 3

    @task(3)
    def entity_page(self) -> None:
        self.client.get(f"/id/{random.choice(ENTITIES)}", headers={"Accept": "text/html"}, name="page-entity")

    @task(1)
    def home(self) -> None:
        self.client.get("/", name="page-home")

    @task(3)
    def stakeholders(self) -> None:
        self.client.get("/api/stakeholders", params={"q": random.choice(["mig", "dia", "bank", "union"])},
                        name="rest-stakeholders")

    @task(2)
    def entity(self) -> None:
        self.client.get(f"/api/entities/{random.choice(ENTITIES)}", name="rest-entity")

    @task(1)
    def gaps(self) -> None:
        self.client.get("/api/gaps", params={"instrument": "icrmw", "as_of": "2005-10-01"}, name="rest-gaps")

    @task(1)
    def network(self) -> None:
        self.client.get("/api/network", name="rest-network")


class SparqlClient(User):
    """Sends cheap SPARQL queries."""

    wait_time = between(0.05, 0.2)
    weight = 2

    @task
    def cheap(self) -> None:
        self.client.get("/sparql", params={"query": random.choice(CHEAP)},
                        headers={"Accept": "application/sparql-results+json"}, name="sparql-cheap")


class HeavyClient(User):
    """Sends queries that run into the deadline, to show they cannot starve the others."""

    wait_time = between(0.5, 1.0)
    weight = 1

    @task
    def expensive(self) -> None:
        with self.client.post("/sparql", data={"query": EXPENSIVE}, name="sparql-expensive",
                              headers={"Accept": "application/sparql-results+json"}, catch_response=True) as r:
            if r.status_code in (503, 429):
                r.success()
            elif r.status_code == 200:
                r.failure("an expensive query finished inside the deadline: raise its cost")
