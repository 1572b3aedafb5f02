"""Mixed workload against a live mdkg server (run by bench/load/run.py, or `locust -f` by hand).

Request kinds (locust names): page-entity, page-home, rest-stakeholders, rest-entity, rest-gaps, rest-network,
sparql-cheap, sparql-expensive. An expensive query is one that runs into the server's deadline: its documented
answers are 503 (deadline passed, query killed) and 429 (admission limit, with Retry-After); both count as
served correctly, anything else as an error."""

from __future__ import annotations

import random

from locust import HttpUser, between, task

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


class Analyst(HttpUser):
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


class SparqlClient(HttpUser):
    """Sends cheap SPARQL queries."""

    wait_time = between(0.05, 0.2)
    weight = 2

    @task
    def cheap(self) -> None:
        self.client.get("/sparql", params={"query": random.choice(CHEAP)},
                        headers={"Accept": "application/sparql-results+json"}, name="sparql-cheap")


class HeavyClient(HttpUser):
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
