"""The treaty record (ingest/treaties.py): instruments' facts and one TreatyAction per source row."""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
from collections import Counter

import pytest
import yaml
from rdflib import DCTERMS, RDF, Dataset, Literal, URIRef
from rdflib.namespace import XSD as _XSD
from treaty_data import CONSENT, SETTINGS, SHARED, TREATIES, code_to_id, dataset, source_rows

from ingest import treaties
from ingest.errors import SeedError
from ingest.states import reference_states
from ingest.treaties import TreatyDataError

NS = SETTINGS.ns
M = NS.MDKG
PROV = "http://www.w3.org/ns/prov#"
_XSD_DATE = URIRef(str(_XSD) + "date")
UNTC_CMW = "https://treaties.un.org/Pages/ViewDetails.aspx?src=TREATY&mtdsg_no=IV-13&chapter=4&clang=_en"


def test_the_seed_copy_is_the_shared_file_as_it_stands():
    if not (SHARED / "ratifications.csv").exists():
        pytest.skip("shared ratification data not available")
    assert (TREATIES / "ratifications.csv").read_bytes() == (SHARED / "ratifications.csv").read_bytes()


def test_one_action_per_row():
    counts = treaties.emit(Dataset(), SETTINGS)
    rows = source_rows()
    assert counts["actions"] == len(rows) == 3617 + 27 + 3 + 30  # UNTC, NORMLEX C097, Verdragenbank, Fedlex
    per_instrument = Counter(code_to_id()[r["instrument"]] for r in rows)
    for iid, n in per_instrument.items():
        assert counts[f"actions:{iid}"] == n
    assert counts["actions:icrmw"] == 100 and counts["actions:ilo-c97"] == 30 and counts["actions:ilo-c189"] == 30
    assert counts["non_state_actions"] == sum(1 for r in rows if not r["iso3"]) == 8
    assert counts["instruments"] == 19
    g = dataset().graph(NS.graph("treaties"))
    assert len(set(g.subjects(RDF.type, M.TreatyAction))) == len(rows)


def test_action_nodes():
    g = dataset().graph(NS.graph("treaties"))
    a = NS.ID["action/icrmw/MEX/ratification/1999-03-08"]
    assert (a, RDF.type, M.TreatyAction) in g
    assert (a, M.state, NS.state("MEX")) in g
    assert (a, M.instrument, NS.entity("icrmw")) in g
    assert (a, M.actionKind, NS.ID["action-kind/ratification"]) in g
    assert (a, M.actionDate, Literal("1999-03-08", datatype=_XSD_DATE)) in g
    assert (a, M.rawCell, Literal("8 Mar 1999")) in g
    assert (a, DCTERMS.source, Literal("UN Treaty Collection, Chapter IV-13, status as at 2026-02-03")) in g
    assert (a, URIRef(PROV + "wasDerivedFrom"), URIRef(UNTC_CMW)) in g
    mne = NS.ID["action/icrmw/MNE/succession-to-signature/2006-10-23"]
    assert (mne, M.rawCell, Literal("23 Oct 2006 d")) in g
    nic = NS.ID["action/icrmw/NIC/accession/2005-10-26"]
    assert (nic, M.actionKind, NS.ID["action-kind/accession"]) in g
    # source B rows name their (2015) authority
    untoc = next(iter(g.subjects(M.instrument, NS.entity("untoc"))))
    assert "participant table as scraped 2013-2015" in str(g.value(untoc, DCTERMS.source))


def test_the_european_union_is_a_non_state_participant():
    g = dataset().graph(NS.graph("treaties"))
    eu = NS.ID["action/crpd/eu/formal-confirmation/2010-12-23"]
    assert (eu, M.nonStateParticipant, NS.entity("eu")) in g
    assert g.value(eu, M.state) is None
    assert (eu, M.rawCell, Literal("23 Dec 2010 c")) in g
    assert len(set(g.subjects(M.nonStateParticipant, NS.entity("eu")))) == 8


def test_ilo_actions_name_normlex():
    g = dataset().graph(NS.graph("treaties"))
    ita = NS.ID["action/ilo-c97/ITA/ratification/1952-10-22"]
    assert (ita, M.state, NS.state("ITA")) in g
    assert (ita, M.rawCell, Literal("22 oct. 1952")) in g
    assert str(g.value(ita, DCTERMS.source)).startswith("ILO NORMLEX, Ratifications of C097")
    assert "312242" in str(g.value(ita, URIRef(PROV + "wasDerivedFrom")))
    assert not list(g.subjects(M.instrument, NS.entity("ilo-c143")))
    c189 = set(g.subjects(M.instrument, NS.entity("ilo-c189")))
    assert len(c189) == 30  # every State party as at 2020-10-05 (Swiss Fedlex scope of application)
    uru = NS.ID["action/ilo-c189/URY/ratification/2012-06-14"]
    assert uru in c189 and str(g.value(uru, DCTERMS.source)).startswith("Swiss Confederation, Classified Compilation")
    congo = [r for r in source_rows() if r["instrument"] == "C097" and r["iso3"] in ("COG", "COD")]
    assert not congo  # NORMLEX and the Dutch treaty database disagree on which Congo: left out


_MONTHS = {m: i for i, m in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}
_MOIS = {m: i for i, m in enumerate("janv. févr. mars avr. mai juin juil. août sept. oct. nov. déc.".split(),
                                    1)}
_MONATE = {m: i for i, m in enumerate(
    "Januar Februar März April Mai Juni Juli August September Oktober November Dezember".split(), 1)}


def _raw_date(cell: str) -> dt.date:
    """The date a source cell prints: UNTC "5 Jun 2007 a" / NORMLEX "02 mars 2005" / Fedlex "24. März 2014" /
    Verdragenbank "14-06-2001 (R)"."""
    if cell[:10].count("-") == 2:
        day, month, year = cell[:10].split("-")
        return dt.date(int(year), int(month), int(day))
    day, month, year = cell.split()[:3]
    return dt.date(int(year), _MONTHS.get(month) or _MOIS.get(month) or _MONATE[month], int(day.rstrip(".")))


def test_every_date_is_the_date_its_source_cell_prints():
    for r in source_rows():
        assert _raw_date(r["raw_cell"]) == dt.date.fromisoformat(r["date"]), r


def test_ilo_rows_name_their_authority_and_only_cited_facts():
    mapping = yaml.safe_load((TREATIES / "mapping.yaml").read_text(encoding="utf-8"))
    rows = [r for r in source_rows() if r["instrument"] == "C097" and r["source"] == "normlex-fr-c097"]
    assert {r["source"] for r in source_rows() if r["instrument"] in ("C097", "C143", "C189")} == {
        "normlex-fr-c097", "verdragenbank-007101", "fedlex-c189-2020-10-05"}
    authority = mapping["sources"]["normlex-fr-c097"]
    assert authority["authority"].startswith("ILO NORMLEX") and "312242" in authority["page"]
    assert all(r["action"] == "ratification" and r["iso3"] and not r["untc_ref"] for r in rows)
    # the facts the shared README quotes from the same NORMLEX page
    cited = {("DEU", "1959-06-22"), ("BEL", "1953-07-27"), ("FRA", "1954-03-29"), ("ITA", "1952-10-22")}
    assert cited <= {(r["iso3"], r["date"]) for r in rows}
    assert len({r["iso3"] for r in rows}) == len(rows) == 27  # Albanie .. Kirghizistan, without Congo


def test_instrument_facts_with_their_authority():
    g = dataset().graph(NS.graph("treaties"))
    icrmw = NS.entity("icrmw")
    assert (icrmw, M.adoptionDate, Literal("1990-12-18", datatype=_XSD_DATE)) in g
    assert (icrmw, M.entryIntoForce, Literal("2003-07-01", datatype=_XSD_DATE)) in g
    assert (icrmw, M.depositary, NS.entity("un")) in g
    assert (icrmw, M.untcReference, Literal("IV-13")) in g
    assert (icrmw, M.recordCoverage, Literal("complete")) in g
    assert (icrmw, M.recordStatusDate, Literal("2026-02-03", datatype=_XSD_DATE)) in g
    fact = NS.ID["treaty-fact/icrmw/entryIntoForce"]
    assert (fact, RDF.type, RDF.Statement) in g and (fact, RDF.subject, icrmw) in g
    assert (fact, RDF.predicate, M.entryIntoForce) in g
    untc = Literal("UN Treaty Collection, Chapter IV-13, status as at 2026-02-03")
    assert (fact, DCTERMS.source, untc) in g
    assert (fact, M.quote, Literal("Entry into force : 1 July 2003, in accordance with article 87(1).")) in g
    c97 = NS.entity("ilo-c97")
    assert (c97, M.depositary, NS.entity("ilo")) in g and (c97, M.recordCoverage, Literal("partial")) in g
    assert (NS.entity("ilo-c143"), M.recordCoverage, Literal("none")) in g
    for iid in code_to_id().values():
        node = NS.entity(iid)
        assert g.value(node, M.adoptionDate) and g.value(node, M.entryIntoForce)
        assert g.value(node, M.depositary)
        assert g.value(node, M.recordCoverage) is not None


def _page_text(path) -> str:
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".html":
        text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return " ".join(text.replace('"', " ").split()) if path.suffix == ".csv" else " ".join(text.split())


def test_quotes_are_in_the_stored_pages():
    if not SHARED.exists():
        pytest.skip("shared ratification data not available")
    data = yaml.safe_load((TREATIES / "instruments.yaml").read_text(encoding="utf-8"))
    checked = 0
    for iid, entry in data.items():
        for key in ("adoption_date", "entry_into_force", "depositary", "record"):
            fact = entry[key]
            src = fact.get("quoted_from")
            if not src or src.startswith("http"):
                continue
            text = _page_text(SHARED / src)
            quotes = fact["quote"] if isinstance(fact["quote"], list) else [fact["quote"]]
            for q in quotes:
                assert " ".join(q.split()) in text, (iid, key, q)
                checked += 1
    assert checked >= 30


def test_complete_records_match_the_pages_own_count():
    data = yaml.safe_load((TREATIES / "instruments.yaml").read_text(encoding="utf-8"))
    consent = Counter()
    for r in source_rows():
        if r["action"] in CONSENT:
            consent[code_to_id()[r["instrument"]]] += 1
    for iid, entry in data.items():
        rec = entry["record"]
        if rec["coverage"] == "complete" and "parties_stated" in rec:  # C189's Fedlex table states no count
            assert consent[iid] == rec["parties_stated"], iid
        if rec["coverage"] == "none":
            assert consent[iid] == 0
    assert consent["ilo-c97"] == 30 < data["ilo-c97"]["record"]["parties_stated"] == 54
    assert consent["ilo-c189"] == 30 and data["ilo-c189"]["record"]["status_date"] == dt.date(2020, 10, 5)


def test_instrument_types_only_when_the_registry_has_none():
    ds = Dataset()
    ds.graph(NS.graph("registry")).add((NS.entity("icrmw"), RDF.type, M.Convention))
    counts = treaties.emit(ds, SETTINGS)
    g = ds.graph(NS.graph("treaties"))
    assert (NS.entity("icrmw"), RDF.type, M.Convention) not in g
    assert (NS.entity("untoc"), RDF.type, M.Convention) in g
    assert counts["instrument_types_added"] == 18


def test_registry_entries_cover_every_instrument():
    entries = yaml.safe_load((TREATIES.parent / "registry" / "conventions.yaml").read_text(encoding="utf-8"))
    ids = {e["id"] for e in entries}
    assert set(code_to_id().values()) <= ids
    assert all(e["kind"] == "Convention" for e in entries)
    forms = Counter(f for e in entries for f in [e["name"], *e.get("aliases", []), *e.get("acronyms", [])])
    assert not [f for f, n in forms.items() if n > 1]  # an ambiguous form would not be linked
    icrmw = next(e for e in entries if e["id"] == "icrmw")
    assert {"1990 Convention", "UN Migrant Workers Convention"} <= set(icrmw["aliases"])
    assert "ICRMW" in icrmw["acronyms"]
    c97 = next(e for e in entries if e["id"] == "ilo-c97")
    assert "C97" in c97["acronyms"] and "Convention No. 97" in c97["aliases"]


# -- errors name the file, the line and the field ----------------------------------------------------------
HEADER = "instrument,state_name,iso3,action,date,source,untc_ref,raw_cell\n"
GOOD = "ICRMW,Mexico,MEX,ratification,1999-03-08,untc-2026-02-03,IV-13,8 Mar 1999\n"


def _folder(tmp_path, rows: str):
    for name in ("instruments.yaml", "mapping.yaml"):
        shutil.copy(TREATIES / name, tmp_path / name)
    (tmp_path / "ratifications.csv").write_text(HEADER + GOOD + rows, encoding="utf-8")
    (tmp_path / "ilo-normlex.csv").write_text(HEADER, encoding="utf-8")
    return tmp_path


def _read(folder):
    return treaties.read_actions(folder, treaties.load_instruments(folder / "instruments.yaml"),
                                reference_states(SETTINGS))


@pytest.mark.parametrize("row, field, message", [
    ("ICRMW,Mexico,MEX,ratification,1999-02-30,untc-2026-02-03,IV-13,30 Feb 1999\n", "date", "bad date"),
    ("ICRMW,Mexico,MEX,ratification,8 Mar 1999,untc-2026-02-03,IV-13,8 Mar 1999\n", "date", "bad date"),
    ("ICRMWX,Mexico,MEX,ratification,1999-03-08,untc-2026-02-03,IV-13,8 Mar 1999\n", "instrument",
     "unknown instrument"),
    ("ICRMW,Atlantis,ATL,ratification,1999-03-08,untc-2026-02-03,IV-13,8 Mar 1999\n", "iso3", "unknown ISO3"),
    ("ICRMW,Nowhere,,ratification,1999-03-08,untc-2026-02-03,IV-13,8 Mar 1999\n", "iso3", "no ISO3"),
    ("ICRMW,Mexico,MEX,ratified,1999-03-08,untc-2026-02-03,IV-13,8 Mar 1999\n", "action", "unknown action"),
    ("ICRMW,Mexico,MEX,ratification,1999-03-09,untc-9999,IV-13,9 Mar 1999\n", "source", "unknown source"),
    ("ICRMW,Mexico,MEX,ratification,1999-03-09,untc-2026-02-03,IV-2,9 Mar 1999\n", "untc_ref", "differs"),
    (GOOD, "row", "duplicate action"),
])
def test_csv_errors(tmp_path, row, field, message):
    folder = _folder(tmp_path, row)
    with pytest.raises(TreatyDataError) as e:
        _read(folder)
    err = e.value
    assert isinstance(err, SeedError)
    assert (err.file.name, err.line, err.field) == ("ratifications.csv", 3, field)
    assert message in str(err) and "ratifications.csv:3: " + field in str(err)


def test_bad_header(tmp_path):
    folder = _folder(tmp_path, "")
    (folder / "ratifications.csv").write_text("instrument,state,iso3\n", encoding="utf-8")
    with pytest.raises(TreatyDataError, match="header"):
        _read(folder)


def test_bad_instrument_fact(tmp_path):
    folder = _folder(tmp_path, "")
    text = (folder / "instruments.yaml").read_text(encoding="utf-8")
    (folder / "instruments.yaml").write_text(text.replace("value: 2003-07-01", "value: 2003-07-32"),
                                             encoding="utf-8")
    with pytest.raises(TreatyDataError) as e:
        treaties.load_instruments(folder / "instruments.yaml")
    assert e.value.field == "value" and "2003-07-32" in str(e.value) and e.value.line > 1
