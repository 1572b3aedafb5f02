"""Fuzzing the ingest stages with malformed input (issue 7): random YAML structure, wrong types, junk
bytes, truncated real seed files, random unicode; malformed treaty-action CSV; odd document text.

The property everywhere: a stage either accepts its input or raises SeedError/SeedErrors (TreatyDataError
for the treaty files, a SeedError too) naming the file it read and a line inside it; never another exception.
Input that is valid but odd (CRLF, a byte order mark, re-dumped YAML, control characters in a document) is
accepted.

The stage functions are driven directly on files written to a scratch folder, not through the full build, so
the file runs in well under a minute. A longer run: MDKG_FUZZ_EXAMPLES=2000 pytest tests/test_ingest_fuzz.py
(random seeds then; add --hypothesis-show-statistics to see the number of inputs tried)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import shutil
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ingest import treaties
from ingest.assertions import load_assertions
from ingest.documents import load_catalogue, load_documents, read_text, split_passages
from ingest.errors import SeedError, SeedErrors
from ingest.ontology import load_ontology
from ingest.registry import ENTITY_FIELDS, STATE_FIELDS, load_registry
from ingest.states import reference_states
from ingest.yamlio import load_yaml
from mdkg.settings import Settings

SETTINGS = Settings()  # plain defaults: this checkout's seeds and queries, the default base IRI

EXAMPLES = int(os.environ.get("MDKG_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                derandomize="MDKG_FUZZ_EXAMPLES" not in os.environ,  # CI: the same inputs on every run
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                                       HealthCheck.data_too_large])
SEEDS = SETTINGS.seeds
STATES = reference_states(SETTINGS)
REAL_ASSERTIONS = sorted((SEEDS / "assertions").glob("*.yaml"))
SMALL_ASSERTIONS = [SEEDS / "assertions" / name for name in ("gfmd-csd-2007.yaml", "south-centre-2006.yaml")]
REAL_YAML = [SEEDS / "documents.yaml", *sorted((SEEDS / "registry").glob("*.yaml")), *REAL_ASSERTIONS]


# -- the real context the stages need, loaded once -----------------------------------------------------------
@cache
def ontology():
    return load_ontology(SETTINGS.ontology_dir, SETTINGS.ns.base)


@cache
def themes() -> set[str]:
    return ontology().concepts("theme")


@cache
def docs():
    return load_documents(SEEDS)


@cache
def registry():
    return load_registry(SEEDS / "registry", ontology(), themes(), STATES)


@cache
def instruments():
    return treaties.load_instruments(SEEDS / "treaties" / "instruments.yaml")


@cache
def treaty_mapping() -> dict:
    return yaml.safe_load((SEEDS / "treaties" / "mapping.yaml").read_text(encoding="utf-8"))


@cache
def real_bytes(path: Path) -> bytes:
    return path.read_bytes()


@cache
def real_data(path: Path):
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder per module; each test overwrites its own sub-folder on every example."""
    return tmp_path_factory.mktemp("fuzz")


def _folder(scratch: Path, name: str) -> Path:
    folder = scratch / name
    folder.mkdir(exist_ok=True)
    return folder


# -- the property --------------------------------------------------------------------------------------------
def expect_clean(call: Callable[[], object], files: list[Path], data: bytes | None = None, field_names=None):
    """Run a stage; it may succeed (returns its result) or fail with SeedError(s) that name one of `files` and
    a line within `data` (the input's bytes). Any other exception fails the test with its traceback."""
    try:
        return call()
    except SeedErrors as e:
        errors = e.errors
        assert errors, "SeedErrors without errors"
    except SeedError as e:
        errors = [e]
    names = {str(f) for f in files}
    keyed = ("unknown field", "duplicate key")  # errors that name a field of the input, whatever it is
    last_line = (data.count(b"\n") + 1) if data is not None else None
    for err in errors:
        assert isinstance(err, SeedError)
        assert err.file is not None and str(err.file) in names, (str(err), names)
        assert err.message and "Traceback" not in err.message
        if last_line is not None:
            assert isinstance(err.line, int) and 1 <= err.line <= last_line + 1, (str(err), last_line)
            assert str(err).startswith(f"{err.file}:{err.line}: "), str(err)
        assert err.field is None or isinstance(err.field, str)
        if field_names is not None and not any(k in err.message for k in keyed):
            assert err.field in field_names, str(err)
    return None


# -- strategies ----------------------------------------------------------------------------------------------
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["", " ", "iom", "IOM", "MEX", "2005", "2005-02-30", "2005-13", "Q42", "0x_", "~", "null",
                     "yes", "1e", "partnership", "a\nb", "\ufeff"]),
    st.dates().map(dt.date.isoformat),
)
structures = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8) | st.integers(), inner,
                                                                 max_size=4),
    max_leaves=12)
# A soup of YAML syntax: finds parser and constructor corners (tags, anchors, flow collections, merge keys).
yaml_tokens = st.sampled_from([
    "- ", "id: ", "kind: ", "name: ", "type: ", "quote: ", "document: ", "assertions:", ": ", ":", "[", "]",
    "{", "}", ", ", "\n", "\n  ", "  ", "\t", "&a ", "*a ", "*b", "!!int ", "!!float ", "!!bool ", "!!map ",
    "!!seq ",
    "!!str ", "!!binary ", "!!set ", "!!omap ", "!!timestamp ", "!!python/object:os.system ", "!foo ", "0x_",
    "0o9", "1e", "-", "? ", "<<: ", "---\n", "...\n", "# c\n", "|\n  ", ">\n  ", "%YAML 1.1\n", "%TAG ! x\n",
    "'", '"', "\\", "\\ud800", '"\\ud800"', "\x00", "\x07", "\x85", "\ufeff", "\r\n", "\r", "é", "😀", "iom",
    "2005-02-03", "null", "~", "yes", "[[[[[[", "]]]]]]"])
yaml_soup = st.lists(yaml_tokens, max_size=40).map("".join)
junk_bytes = st.binary(max_size=300)


def dump(data: object, flow: bool | None = None) -> bytes:
    return yaml.safe_dump(data, allow_unicode=True, default_flow_style=flow, sort_keys=False).encode("utf-8")


def odd_encodings(raw: bytes, crlf: bool, bom: bool) -> bytes:
    if crlf:
        raw = raw.replace(b"\n", b"\r\n")
    return (b"\xef\xbb\xbf" if bom else b"") + raw


@st.composite
def truncated(draw, paths: list[Path]) -> tuple[Path, bytes]:
    """A real seed file cut at a random byte, sometimes with junk spliced in at another point."""
    path = draw(st.sampled_from(paths))
    data = real_bytes(path)
    data = data[: draw(st.integers(0, len(data)))]
    if draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(junk_bytes | yaml_soup.map(str.encode)) + data[at:]
    return path, data


@st.composite
def mutated_list(draw, path: Path, fields: list[str]) -> bytes:
    """A real list-of-mappings seed file with a few entries broken: a field set to a random value, dropped or
    added, an entry replaced by a random structure."""
    entries = [dict(e) if isinstance(e, dict) else e for e in real_data(path)]
    entries = entries[: draw(st.integers(1, min(len(entries), 25)))]
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(entries) - 1))
        action = draw(st.sampled_from(["set", "drop", "add", "replace", "duplicate"]))
        entry = entries[i]
        if action == "replace" or not isinstance(entry, dict):
            entries[i] = draw(structures)
        elif action == "set":
            entry[draw(st.sampled_from(fields))] = draw(structures)
        elif action == "drop" and entry:
            entry.pop(draw(st.sampled_from(sorted(entry, key=str))))
        elif action == "add":
            entry[draw(st.text(max_size=6) | st.integers())] = draw(structures)
        else:
            entries.append(entry)
    return dump(entries, draw(st.sampled_from([None, False, True])))


# -- YAML: the loader itself ---------------------------------------------------------------------------------
@FUZZ
@given(raw=st.one_of(junk_bytes, yaml_soup.map(str.encode), structures.map(dump),
                     st.text().map(lambda t: t.encode("utf-8", "surrogatepass"))))
@example(raw=b"? [a]\n: b\n")  # unhashable key: was TypeError
@example(raw=b"{[1]: 2, {a: 1}: 3}\n")
@example(raw=b"a: 0x_\n")  # plain scalar PyYAML resolves as int and cannot convert: was ValueError
@example(raw=b"a: !!bool maybe\n")  # was KeyError
@example(raw=b"a: !!int ''\n")  # was IndexError
@example(raw=b"a: !!map [1]\n")  # was TypeError
@example(raw=b"[" * 1200)  # was RecursionError
@example(raw=b"a: b\n\x07\n")  # a control character: reported without a line before
@example(raw=b'x: "\\ud800"\n')  # an unpaired surrogate: passed, then broke the UTF-8 output
@example(raw=b"- &a [*a]\n")  # a recursive list
@example(raw=b"caf\xe9: 1\n")
@example(raw=b"\xc2\x85a: 1\nb: [\n")  # U+0085 is a YAML line break: the error was reported at line 3
@example(raw=b"a: 1\rb: 2\n- c\n")  # a lone CR likewise
@example(raw=b"")
def test_load_yaml_fails_only_with_a_located_error(scratch, raw):
    path = _folder(scratch, "yaml") / "x.yaml"
    path.write_bytes(raw)
    expect_clean(lambda: load_yaml(path), [path], raw)


@pytest.mark.parametrize(("raw", "line", "message"), [
    (b"a: 1\n? [a]\n: b\n", 2, "mapping key must be a plain value"),  # was TypeError
    (b"a: 1\nb: 0x_\n", 2, "cannot read '0x_' as int"),  # was ValueError
    (b"a: 1\nb: !!bool maybe\n", 2, "cannot read 'maybe' as bool"),  # was KeyError
    (b"a: b\n\x07\n", 2, "special characters are not allowed"),  # had no line
    (b'a: 1\nx: "\\ud800"\n', 2, "unpaired surrogate"),  # was accepted
    (b"a: 1\nb: [\n" + b"[" * 1200, 3, "nested too deeply"),  # was RecursionError
    (b"a: 1\rb: 2\n- c\n", 2, "expected <block end>"),  # a lone CR: was line 3
    (b"a: 1\r\nb: 2\r\n- c\r\n", 3, "expected <block end>"),
    (b"\xc2\x85a: 1\nb: [\n", 3, "expected the node content"),  # U+0085: was line 4
    (b"a: 1\n\xe2\x80\xa8b: 2\n c: d\n", 3, "mapping values are not allowed"),  # U+2028: was line 4
    (b"a: 1\nb: caf\xe9\n", 2, "not UTF-8"),
])
def test_yaml_errors_name_the_editor_line(scratch, raw, line, message):
    path = _folder(scratch, "lines") / "x.yaml"
    path.write_bytes(raw)
    with pytest.raises(SeedError) as info:
        load_yaml(path)
    assert (info.value.file, info.value.line) == (path, line) and message in info.value.message, str(info.value)


@FUZZ
@given(case=truncated(REAL_YAML))
def test_truncated_seed_yaml_fails_only_with_a_located_error(scratch, case):
    real, raw = case
    path = _folder(scratch, "truncated") / real.name
    path.write_bytes(raw)
    expect_clean(lambda: load_yaml(path), [path], raw)


@settings(FUZZ, max_examples=max(8, EXAMPLES // 4))  # few distinct inputs, and the big files are slow to dump
@given(real=st.sampled_from(REAL_YAML), flow=st.sampled_from([None, False, True]), crlf=st.booleans(),
       bom=st.booleans(), width=st.integers(20, 200))
def test_real_seed_yaml_in_another_layout_loads_the_same(scratch, real, flow, crlf, bom, width):
    """Valid but odd: the same data re-dumped (flow style, other widths), with CRLF and a byte order mark."""
    data = real_data(real)
    text = yaml.safe_dump(data, allow_unicode=True, default_flow_style=flow, width=width, sort_keys=False)
    path = _folder(scratch, "relayout") / real.name
    path.write_bytes(odd_encodings(text.encode("utf-8"), crlf, bom))
    loaded = load_yaml(path)
    assert _plain(loaded) == _plain(data)


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# -- registry ------------------------------------------------------------------------------------------------
REGISTRY_FILES = [SEEDS / "registry" / "entities.yaml", SEEDS / "registry" / "conventions.yaml"]


@FUZZ
@given(raw=st.one_of(
    mutated_list(REGISTRY_FILES[0], sorted(ENTITY_FIELDS)),
    mutated_list(REGISTRY_FILES[1], sorted(ENTITY_FIELDS)),
    mutated_list(SEEDS / "registry" / "states.yaml", ["iso3", "aliases", "demonyms", "wikidata"]),
    st.lists(st.dictionaries(st.sampled_from(sorted(ENTITY_FIELDS | {"iso3", "x"})), structures, max_size=6),
             max_size=5).map(dump),
    structures.map(dump), yaml_soup.map(str.encode), junk_bytes,
    truncated([SEEDS / "registry" / "states.yaml", REGISTRY_FILES[1]]).map(lambda c: c[1]),
))
@example(raw=b"- id: x\n  kind: Convention\n  name: X\n  state: [MEX]\n")  # was TypeError (unhashable)
@example(raw=b"- id: x\n  kind: Convention\n  name: X\n  part_of: {a: 1}\n")  # was TypeError
@example(raw=b"- id: x\n  kind: Convention\n  name: X\n  note: [1, 2]\n")  # passed, then broke the emitter
@example(raw=b"- id: x\n  1: a\n  b: c\n")  # unknown fields of mixed types: sorted() raised TypeError
@example(raw=b"- iso3: MEX\n  wikidata: 12\n")  # passed, then broke the emitter
@example(raw=b"- id: x\n- just a string\n")  # no line before
@example(raw=b'- id: "iom\\n"\n  kind: Convention\n  name: X\n')  # a slug with a newline passed
def test_registry_fails_only_with_located_errors(scratch, raw):
    fields = ENTITY_FIELDS | STATE_FIELDS | {None}
    folder = _folder(scratch, "registry")
    path = folder / "fuzz.yaml"
    path.write_bytes(raw)
    reg = expect_clean(lambda: load_registry(folder, ontology(), themes(), STATES), [path], raw, fields)
    if reg is not None:
        for entity in reg.entities.values():
            assert isinstance(entity.id, str) and isinstance(entity.name, str)
            assert all(isinstance(v, str) or v is None for v in (entity.state, entity.part_of, entity.note))


# -- assertions ----------------------------------------------------------------------------------------------
ASSERTION_FIELDS = [
    "type", "quote", "start", "end", "themes", "note", "partners", "kind", "via", "roles", "member", "body",
    "funder", "recipient", "implementer", "implemented", "role", "participant", "process", "party",
    "agreement", "person", "organisation", "agency", "state", "origin", "destination", "instrument", "as_of",
    "parties", "non_parties", "count"]


@st.composite
def assertion_file(draw) -> bytes:
    real = draw(st.sampled_from(SMALL_ASSERTIONS))
    data = dict(real_data(real))
    entries = [dict(e) for e in data["assertions"]][: draw(st.integers(1, 12))]
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(entries) - 1))
        action = draw(st.sampled_from(["set", "drop", "replace", "type", "roles"]))
        if not isinstance(entries[i], dict):
            entries[i] = draw(structures)
        elif action == "set":
            entries[i][draw(st.sampled_from(ASSERTION_FIELDS))] = draw(structures)
        elif action == "drop":
            if entries[i]:
                entries[i].pop(draw(st.sampled_from(sorted(entries[i], key=str))))
        elif action == "replace":
            entries[i] = draw(structures)
        elif action == "type":
            entries[i]["type"] = draw(st.sampled_from(["partnership", "membership", "funding", "party",
                                                       "ratification_claim", "corridor", "friendship"]))
        else:  # roles against odd partner lists
            entries[i].update(type="partnership", partners=draw(structures), roles=draw(structures))
    data["assertions"] = entries
    top = draw(st.sampled_from(["keep", "document", "assertions", "drop"]))
    if top == "document":
        data["document"] = draw(structures)
    elif top == "assertions":
        data["assertions"] = draw(structures)
    elif top == "drop":
        data.pop(draw(st.sampled_from(["document", "assertions"])))
    return dump(data, draw(st.sampled_from([None, False])))


@FUZZ
@given(raw=st.one_of(assertion_file(), assertion_file(), structures.map(dump), yaml_soup.map(str.encode),
                     junk_bytes, truncated(REAL_ASSERTIONS).map(lambda c: c[1])))
@example(raw=b"document: [x]\nassertions: []\n")  # was TypeError (unhashable)
@example(raw=b"document: gfmd-csd-2007\nassertions:\n- type: [x]\n")  # was TypeError
@example(raw=b"document: gfmd-csd-2007\nassertions:\n- type: partnership\n  partners: 5\n  roles: {a: b}\n"
              b"  quote: the GFMD\n")  # set(5): was TypeError
@example(raw=b"document: gfmd-csd-2007\nassertions:\n- type: partnership\n  partners: [eu, acp]\n"
              b"  themes: 7\n  quote: the GFMD\n")  # was TypeError
@example(raw=b"document: gfmd-csd-2007\nassertions:\n- type: party\n  1: a\n  b: c\n")  # sorted(): TypeError
@example(raw=b"document: gfmd-csd-2007\nassertions:\n- 42\n")  # no line before
def test_assertions_fail_only_with_located_errors(scratch, raw):
    folder = _folder(scratch, "assertions")
    path = folder / "fuzz.yaml"
    path.write_bytes(raw)
    out = expect_clean(lambda: load_assertions(folder, docs(), registry(), ontology(), themes()), [path], raw)
    if out is not None:
        for a in out:
            assert a.passages and isinstance(a.quote, str)
            assert a.note is None or isinstance(a.note, str)


# -- the document catalogue and document text ----------------------------------------------------------------
CATALOGUE_FIELDS = ["id", "file", "title", "creators", "publisher", "date", "place", "kind", "note", "quotes"]
DOC0 = b"- id: a\n  file: 000_2aeaeb87183a6bb7.txt\n  title: T\n"


@pytest.fixture(scope="module")
def catalogue_seeds(scratch: Path) -> Path:
    """A seeds folder with the real documents, whose documents.yaml each example overwrites."""
    seeds = _folder(scratch, "catalogue")
    shutil.copytree(SEEDS / "documents", seeds / "documents", dirs_exist_ok=True)
    return seeds


@FUZZ
@given(raw=st.one_of(mutated_list(SEEDS / "documents.yaml", CATALOGUE_FIELDS), structures.map(dump),
                     yaml_soup.map(str.encode), junk_bytes,
                     truncated([SEEDS / "documents.yaml"]).map(lambda c: c[1])))
@example(raw=DOC0 + b"  date: 2005-02-30\n")  # passed, then broke the emitter (ValueError)
@example(raw=DOC0 + b"  creators: 7\n")  # passed, then broke the emitter (TypeError)
@example(raw=DOC0 + b"  1: x\n  y: z\n")  # unknown fields of mixed types: sorted() raised TypeError
@example(raw=DOC0 + DOC0)  # the same file catalogued twice: the first entry was silently dropped
@example(raw=b"- id: a\n  file: [x]\n  title: T\n")
@example(raw=b"- 42\n")  # no line before
def test_catalogue_fails_only_with_located_errors(catalogue_seeds, raw):
    path = catalogue_seeds / "documents.yaml"
    path.write_bytes(raw)
    expect_clean(lambda: load_catalogue(path), [path], raw)
    out = expect_clean(lambda: load_documents(catalogue_seeds), [path], raw)
    if out is not None:
        assert len(out) == 5 and len({d.id for d in out}) == 5


document_text = st.one_of(
    st.text(), st.binary(max_size=400),
    st.lists(st.sampled_from(["word ", "IOM ", "\n", "\r\n", "\r", "\n\n", "\ufeff", "\x00", "\x0c", "\x1b",
                              "\u2028", "\u00a0", "é", "😀", "\t", "  "]), max_size=60).map("".join),
)


@FUZZ
@given(body=document_text, crlf=st.booleans(), bom=st.booleans())
@example(body=b"caf\xe9\n", crlf=False, bom=False)
@example(body="", crlf=False, bom=True)
@example(body="\ufeff\r\n\r\n", crlf=True, bom=True)
def test_document_text_is_read_or_rejected_with_its_line(scratch, body, crlf, bom):
    seeds = _folder(scratch, "text")
    folder = _folder(seeds, "documents")
    path = folder / "900_fuzz.txt"
    raw = body if isinstance(body, bytes) else body.encode("utf-8")
    raw = odd_encodings(raw, crlf, bom)
    path.write_bytes(raw)
    text = expect_clean(lambda: read_text(path), [path], raw)
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        assert text is None, "non-UTF-8 text was accepted"
        return
    assert text is not None, "valid UTF-8 was rejected"
    assert not text.startswith("\ufeff")
    passages = split_passages("fuzz", text)
    # line numbers are the file's: a curator finds a passage's lines where an editor shows them
    raw_lines = raw.decode("utf-8").removeprefix("\ufeff").split("\n")
    assert text.count("\n") == len(raw_lines) - 1
    for p in passages:
        assert text[p.start: p.start + len(p.text)] == p.text and p.text.strip()
        assert 1 <= p.start_line <= p.end_line <= len(raw_lines)
        first = raw_lines[p.start_line - 1]
        first = first[:-1] if first.endswith("\r") and p.start_line < len(raw_lines) else first  # CRLF
        assert p.text.split("\n")[0] == (first.lstrip("\ufeff") if p.start_line == 1 else first)
    # The stage proper, with a catalogue entry whose quote is a piece of the (odd) text.
    piece = next((p.text.split("\n")[0].strip() for p in passages if p.text.split("\n")[0].strip()), None)
    entry = {"id": "fuzz", "file": path.name, "title": "T"}
    if piece:
        entry["quotes"] = [piece]
    (seeds / "documents.yaml").write_bytes(dump([entry]))
    (doc,) = load_documents(seeds)
    assert doc.id == "fuzz" and doc.text == text and doc.passages == passages


# -- treaty actions (CSV) ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def treaty_folder(scratch: Path) -> Path:
    """mapping.yaml as it is; each example overwrites ratifications.csv; the other action files have no rows."""
    folder = _folder(scratch, "treaties")
    shutil.copy(SEEDS / "treaties" / "mapping.yaml", folder / "mapping.yaml")
    for name in treaty_mapping()["action_files"]:
        if name != "ratifications.csv":
            (folder / name).write_text(",".join(treaties.COLUMNS) + "\n", encoding="utf-8")
    return folder


BAD_DATES = ["", "2005-02-30", "2005-13-01", "1 Jan 2005", "2005", "2999-01-01", "05-01-2005", "2005-1-1",
             "２００５-01-01", " 2005-01-01", "2005-01-01\n"]


def _cell(good: list[str], bad: list[str]):
    return st.one_of(st.sampled_from(good), st.sampled_from(bad), st.text(max_size=12))


@st.composite
def action_rows(draw) -> list[list[str]]:
    m = treaty_mapping()
    codes, kinds, sources = sorted(m["instruments"]), sorted(m["actions"]), sorted(m["sources"])
    refs = sorted({i.untc_reference for i in instruments().values() if i.untc_reference})
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        row = [
            draw(_cell(codes, ["", "icrmw", "C97", " ICRMW "])),
            draw(_cell(["Mexico", "European Union", "Philippines"], ["", "Atlantis"])),
            draw(_cell(["MEX", "PHL", "DEU", ""], ["mex", "XXX", "ZZZ", " MEX"])),
            draw(_cell(kinds, ["", "Ratification", "withdrawal"])),
            draw(st.one_of(st.dates(max_value=dt.date(2025, 12, 31)).map(dt.date.isoformat),
                           st.sampled_from(BAD_DATES), st.text(max_size=10))),
            draw(_cell(sources, ["", "untc"])),
            draw(_cell(["", *refs], ["IV-99"])),
            draw(st.text(max_size=15)),
        ]
        shape = draw(st.sampled_from(["ok", "ok", "short", "long"]))
        if shape == "short":
            row = row[: draw(st.integers(0, len(row) - 1))]
        elif shape == "long":
            row = row + draw(st.lists(st.text(max_size=5), min_size=1, max_size=3))
        rows.append(row)
    return rows


def _csv_bytes(header: list[str], rows: list[list[str]], crlf: bool, bom: bool) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n" if crlf else "\n").writerows([header, *rows])
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8")


@st.composite
def action_file(draw) -> bytes:
    header = list(treaties.COLUMNS)
    change = draw(st.sampled_from(["none", "none", "none", "drop", "swap", "rename", "extra"]))
    if change == "drop":
        header.pop(draw(st.integers(0, len(header) - 1)))
    elif change == "swap":
        header[0], header[3] = header[3], header[0]
    elif change == "rename":
        header[draw(st.integers(0, len(header) - 1))] = draw(st.text(max_size=6))
    elif change == "extra":
        header.append("comment")
    return _csv_bytes(header, draw(action_rows()), draw(st.booleans()), draw(st.booleans()))


@FUZZ
@given(raw=st.one_of(action_file(), action_file(), junk_bytes, st.text().map(str.encode),
                     truncated([SEEDS / "treaties" / "ratifications.csv"]).map(lambda c: c[1])))
@example(raw=b"instrument,state_name\n\xff\xfe\n")  # non-UTF-8: was UnicodeDecodeError
@example(raw=(",".join(treaties.COLUMNS) + '\nICRMW,"' + "x" * 140_000 + '"\n').encode())  # was csv.Error
@example(raw=b"\xef\xbb\xbf" + ",".join(treaties.COLUMNS).encode() + b"\r\n")  # a BOM: was a header error
@example(raw=b"")
def test_treaty_actions_fail_only_with_located_errors(treaty_folder, raw):
    path = treaty_folder / "ratifications.csv"
    path.write_bytes(raw)
    # the check the build runs before ingest/states.py reads every CSV file for former states' codes
    expect_clean(lambda: treaties.check_readable(treaty_folder), [path], raw, {"row"})
    out = expect_clean(lambda: treaties.read_actions(treaty_folder, instruments(), STATES), [path], raw,
                       {*treaties.COLUMNS, "row", "header"})
    if out is not None:
        actions, _ = out
        assert all(a.file == path and a.line >= 2 for a in actions)


@FUZZ
@given(n=st.integers(1, 40), crlf=st.booleans(), bom=st.booleans(), quote_all=st.booleans(),
       blank_lines=st.booleans())
def test_real_action_rows_with_odd_layout_are_read(treaty_folder, n, crlf, bom, quote_all, blank_lines):
    """Valid but odd: real rows with CRLF, a byte order mark, every cell quoted, blank lines."""
    with (SEEDS / "treaties" / "ratifications.csv").open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))[: n + 1]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n" if crlf else "\n",
                        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if blank_lines:
            out.write("\r\n" if crlf else "\n")
    path = treaty_folder / "ratifications.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8"))
    actions, _ = treaties.read_actions(treaty_folder, instruments(), STATES)
    assert len(actions) == len(rows)
    assert [a.raw_cell for a in actions] == [r[-1] for r in rows]


# -- treaty facts (instruments.yaml) and the action-file mapping (mapping.yaml) --------------------------------
@st.composite
def mutated_mapping(draw, path: Path) -> bytes:
    """A real nested-mapping seed file with one to three values at depth 1-3 replaced, dropped or added."""
    data = real_data(path)
    data = {k: ({kk: (dict(vv) if isinstance(vv, dict) else vv) for kk, vv in v.items()} if isinstance(v, dict)
                else v) for k, v in data.items()}
    for _ in range(draw(st.integers(1, 3))):
        node = data
        for _depth in range(draw(st.integers(0, 2))):
            children = [k for k, v in node.items() if isinstance(v, dict)]
            if not children:
                break
            node = node[draw(st.sampled_from(sorted(children, key=str)))]
        action = draw(st.sampled_from(["set", "set", "drop", "add"]))
        if action == "set" and node:
            node[draw(st.sampled_from(sorted(node, key=str)))] = draw(structures)
        elif action == "drop" and node:
            node.pop(draw(st.sampled_from(sorted(node, key=str))))
        else:
            node[draw(st.text(max_size=6) | st.integers())] = draw(structures)
    return dump(data, draw(st.sampled_from([None, False])))


INSTRUMENTS_FILE = SEEDS / "treaties" / "instruments.yaml"
MAPPING_FILE = SEEDS / "treaties" / "mapping.yaml"


@FUZZ
@given(raw=st.one_of(mutated_mapping(INSTRUMENTS_FILE), mutated_mapping(INSTRUMENTS_FILE), structures.map(dump),
                     yaml_soup.map(str.encode), truncated([INSTRUMENTS_FILE]).map(lambda c: c[1])))
@example(raw=b"icrmw:\n  title: T\n  1: x\n  y: z\n")  # unknown fields of mixed types: sorted() raised TypeError
@example(raw=b"cat:\n  title: T\n  adoption_date: {value: 1984-12-10, authority: A}\n"
             b"  entry_into_force: {value: 1987-06-26, authority: A}\n  depositary: {value: un, authority: A}\n"
             b"  record: {coverage: [], authority: A}\n")  # `coverage in set`: was TypeError (unhashable)
@example(raw=b"cat:\n  title: T\n  adoption_date: {value: 1984-12-10, authority: A, note: [1]}\n"
             b"  entry_into_force: {value: 1987-06-26, authority: A}\n  depositary: {value: un, authority: A}\n"
             b"  record: {coverage: none, authority: A}\n")  # passed, then broke the emitter (note.split)
def test_instruments_fail_only_with_located_errors(scratch, raw):
    path = _folder(scratch, "instruments") / "instruments.yaml"
    path.write_bytes(raw)
    out = expect_clean(lambda: treaties.load_instruments(path), [path], raw)
    for inst in (out or {}).values():  # what the emitter writes as strings and IRIs is a string
        assert isinstance(inst.id, str) and isinstance(inst.title, str)
        for fact in (inst.adoption_date, inst.entry_into_force, inst.depositary):
            assert all(isinstance(v, str | None) for v in (fact.quoted_from, fact.note))
        rec = inst.record
        assert all(isinstance(v, str | None) for v in (inst.untc_reference, rec.page, rec.note, rec.quoted_from))


@pytest.fixture(scope="module")
def mapping_folder(scratch: Path) -> Path:
    """The real ILO action file (27 rows), an empty ratifications.csv; each example overwrites mapping.yaml."""
    folder = _folder(scratch, "mapping")
    shutil.copy(SEEDS / "treaties" / "ilo-normlex.csv", folder / "ilo-normlex.csv")
    (folder / "ratifications.csv").write_text(",".join(treaties.COLUMNS) + "\n", encoding="utf-8")
    for name in treaty_mapping()["action_files"]:  # the other action files: no rows
        if not (folder / name).exists():
            (folder / name).write_text(",".join(treaties.COLUMNS) + "\n", encoding="utf-8")
    return folder


@FUZZ
@given(raw=st.one_of(mutated_mapping(MAPPING_FILE), mutated_mapping(MAPPING_FILE), structures.map(dump),
                     truncated([MAPPING_FILE]).map(lambda c: c[1])))
@example(raw=b"action_files: [ilo-normlex.csv]\ninstruments: {C097: ilo-c97}\nsources: {}\n")  # was KeyError
@example(raw=b"action_files: 5\ninstruments: {}\nsources: {}\nactions: {}\n")  # was TypeError
def test_mapping_fails_only_with_located_errors(mapping_folder, raw):
    path = mapping_folder / "mapping.yaml"
    path.write_bytes(raw)
    treaties._mapping.cache_clear()
    try:
        names = [path, *mapping_folder.glob("*.csv")]
        out = expect_clean(lambda: treaties.read_actions(mapping_folder, instruments(), STATES), names)
    finally:
        treaties._mapping.cache_clear()
    if out is not None:
        assert all(a.instrument in instruments() for a in out[0])


@pytest.mark.parametrize("name", ["___.txt", "bakewell-bellagio.txt", "Bakewell Bellagio.txt"])
def test_an_uncatalogued_document_needs_an_id_of_its_own(tmp_path, name):
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS / "documents", seeds / "documents")
    shutil.copy(SEEDS / "documents.yaml", seeds / "documents.yaml")
    (seeds / "documents" / name).write_text("A new document.\n", encoding="utf-8")
    with pytest.raises(SeedError) as info:
        load_documents(seeds)
    assert info.value.file == seeds / "documents" / name
    assert "no catalogue entry" in info.value.message
