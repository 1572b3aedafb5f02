"""Synthetic mdkg-shaped data for the SPARQL benchmark, at any size (10^5, 10^6, 10^7 triples...).

The graph has the shape of a build (docs/data-model.md): states and organisations in graph/registry, treaty
actions in graph/treaties, documents with passages, mentions and curated relationships (Partnership with
mdkg:partner and the mdkg:partnerOf shortcut, Membership with mdkg:memberOf) in graph/doc/{id}. Partners are
drawn with a skew, so that some stakeholders are hubs, as in the real graph. Deterministic for a given seed.

    python bench/sparql/generate.py --triples 1000000 --out /tmp/mdkg-1e6.nq
"""

from __future__ import annotations

import argparse
import gzip
import random
import sys
from pathlib import Path

from graph.schema import schema

BASE = "https://w3id.org/mdkg/"
M = BASE + "ontology#"
ID = BASE + "id/"
G = BASE + "graph/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
PREF = "http://www.w3.org/2004/02/skos/core#prefLabel"
DCT = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
XSD = "http://www.w3.org/2001/XMLSchema#"

ORG_KINDS = schema().kinds("Organisation")
INSTRUMENTS = ("icrmw", "ilo-c97", "ilo-c143", "refugee-convention", "palermo-protocol", "ilo-c189")
ACTIONS = ("signature", "ratification", "accession", "succession", "denunciation")
KINDS = ("bilateral", "multilateral", "public-private", "diaspora")
THEMES = ("remittances", "diaspora-engagement", "labour-migration", "return", "brain-drain", "integration")
WORDS = (
    "migration development remittances diaspora labour corridor partnership return skills investment "
    "policy dialogue cooperation agreement programme circular mobility governance capacity"
).split()
ISO3 = [a + b + c for a in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" for b in "AEIOU" for c in "NRSTL"][:200]


def iri(x: str) -> str:
    return f"<{x}>"


def lit(value: str, datatype: str | None = None, lang: str | None = None) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    if lang:
        return f'"{escaped}"@{lang}'
    if datatype:
        return f'"{escaped}"^^<{datatype}>'
    return f'"{escaped}"'


class Writer:
    def __init__(self, out):
        self.out = out
        self.count = 0

    def quad(self, s: str, p: str, o: str, g: str) -> None:
        self.out.write(f"{s} {p} {o} <{g}> .\n")
        self.count += 1


def generate(out, triples: int, seed: int = 1) -> int:
    rnd = random.Random(seed)
    w = Writer(out)
    reg, tre = G + "registry", G + "treaties"
    states = [ID + f"state/{c}" for c in ISO3]
    for code, s in zip(ISO3, states, strict=True):
        w.quad(iri(s), iri(RDF_TYPE), iri(M + "State"), reg)
        w.quad(iri(s), iri(LABEL), lit(f"State {code}", lang="en"), reg)
        w.quad(iri(s), iri(PREF), lit(f"State {code}", lang="en"), reg)
        w.quad(iri(s), iri(M + "iso3166Alpha3"), lit(code), reg)
        w.quad(iri(s), iri(M + "region"), iri(ID + f"region/{rnd.choice((2, 9, 19, 142, 150))}"), reg)
    for inst in INSTRUMENTS:
        w.quad(iri(ID + inst), iri(RDF_TYPE), iri(M + "Convention"), reg)
        w.quad(iri(ID + inst), iri(LABEL), lit(inst.upper(), lang="en"), reg)
    stakeholders = list(states)
    orgs = 0
    doc, passage, rel = 0, 0, 0
    doc_graph = G + "doc/d0"

    def pick():  # skewed: low indexes are hubs
        return stakeholders[min(len(stakeholders) - 1, int(rnd.paretovariate(1.2)) - 1)]

    while w.count < triples:
        r = rnd.random()
        if r < 0.10 or len(stakeholders) < 250:  # an organisation
            orgs += 1
            o = ID + f"org-{orgs}"
            stakeholders.insert(rnd.randrange(len(stakeholders) + 1), o)
            w.quad(iri(o), iri(RDF_TYPE), iri(M + rnd.choice(ORG_KINDS)), reg)
            w.quad(iri(o), iri(LABEL), lit(f"Organisation {orgs}", lang="en"), reg)
            w.quad(iri(o), iri(PREF), lit(f"Organisation {orgs}", lang="en"), reg)
            w.quad(iri(o), iri(DCT + "identifier"), lit(f"org-{orgs}"), reg)
            w.quad(iri(o), iri(M + "basedIn"), iri(rnd.choice(states)), reg)
            w.quad(iri(o), iri(M + "theme"), iri(ID + f"theme/{rnd.choice(THEMES)}"), reg)
        elif r < 0.30:  # a treaty action
            st, inst = rnd.choice(states), rnd.choice(INSTRUMENTS)
            kind, date = rnd.choice(ACTIONS), f"{rnd.randint(1950, 2025)}-{rnd.randint(1, 12):02d}-15"
            a = ID + f"action/{inst}/{st.rsplit('/', 1)[1]}/{kind}/{date}-{w.count}"
            w.quad(iri(a), iri(RDF_TYPE), iri(M + "TreatyAction"), tre)
            w.quad(iri(a), iri(M + "state"), iri(st), tre)
            w.quad(iri(a), iri(M + "instrument"), iri(ID + inst), tre)
            w.quad(iri(a), iri(M + "actionKind"), iri(ID + f"action-kind/{kind}"), tre)
            w.quad(iri(a), iri(M + "actionDate"), lit(date, XSD + "date"), tre)
        elif r < 0.60:  # a passage with mentions
            if passage % 200 == 0:
                doc += 1
                doc_graph = G + f"doc/d{doc}"
                d = ID + f"doc/d{doc}"
                w.quad(iri(d), iri(RDF_TYPE), iri(M + "Document"), doc_graph)
                w.quad(iri(d), iri(DCT + "title"), lit(f"Document {doc}"), doc_graph)
            passage += 1
            p = ID + f"doc/d{doc}/p{passage}"
            w.quad(iri(p), iri(RDF_TYPE), iri(M + "Passage"), doc_graph)
            w.quad(iri(p), iri(DCT + "isPartOf"), iri(ID + f"doc/d{doc}"), doc_graph)
            w.quad(iri(p), iri(M + "ordinal"), lit(str(passage), XSD + "integer"), doc_graph)
            w.quad(iri(p), iri(M + "text"), lit(" ".join(rnd.choices(WORDS, k=25))), doc_graph)
            for k in range(rnd.randint(0, 3)):
                e = pick()
                m = f"{p}/m{k * 10}-{k * 10 + 8}"
                w.quad(iri(m), iri(RDF_TYPE), iri(M + "Mention"), doc_graph)
                w.quad(iri(m), iri(M + "inPassage"), iri(p), doc_graph)
                w.quad(iri(m), iri(M + "mentionOf"), iri(e), doc_graph)
                w.quad(iri(p), iri(M + "mentions"), iri(e), doc_graph)
        elif r < 0.80:  # a partnership
            rel += 1
            x = ID + f"rel/p{rel}"
            partners = {pick() for _ in range(rnd.choice((2, 2, 2, 3, 4)))}
            if len(partners) < 2:
                continue
            w.quad(iri(x), iri(RDF_TYPE), iri(M + "Partnership"), doc_graph)
            w.quad(
                iri(x),
                iri(M + "partnershipKind"),
                iri(ID + f"partnership-kind/{rnd.choice(KINDS)}"),
                doc_graph,
            )
            w.quad(iri(x), iri(M + "startDate"), lit(str(rnd.randint(1990, 2025)), XSD + "gYear"), doc_graph)
            w.quad(
                iri(x), iri(PROV + "wasDerivedFrom"), iri(ID + f"doc/d{doc}/p{max(passage, 1)}"), doc_graph
            )
            for a in partners:
                w.quad(iri(x), iri(M + "partner"), iri(a), doc_graph)
                for b in partners:
                    if a != b:
                        w.quad(iri(a), iri(M + "partnerOf"), iri(b), doc_graph)
        else:  # a membership
            rel += 1
            x = ID + f"rel/m{rel}"
            member, body = pick(), pick()
            w.quad(iri(x), iri(RDF_TYPE), iri(M + "Membership"), doc_graph)
            w.quad(iri(x), iri(M + "member"), iri(member), doc_graph)
            w.quad(iri(x), iri(M + "body"), iri(body), doc_graph)
            w.quad(iri(member), iri(M + "memberOf"), iri(body), doc_graph)
    return w.count


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--triples", type=float, default=1e5, help="about how many triples (default 1e5)")
    ap.add_argument("--out", type=Path, required=True, help="output N-Quads file (.nq, or .nq.gz)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    opener = gzip.open if args.out.suffix == ".gz" else open
    with opener(args.out, "wt", encoding="utf-8") as out:
        n = generate(out, int(args.triples), args.seed)
    print(f"wrote {n} quads to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
