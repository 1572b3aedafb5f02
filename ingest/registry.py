"""Stage 2: the authority file (seeds/registry/*.yaml) -> entities, plus the ISO reference set of states.

A reference is a registry id (lower-case slug) or an ISO 3166 alpha-3 code (upper case) for a state."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ingest.dates import parse_partial_date
from ingest.errors import SeedError, SeedErrors
from ingest.ontology import Ontology
from ingest.states import StateRecord
from ingest.yamlio import Located, item_line, load_yaml

ENTITY_FIELDS = {"id", "kind", "name", "aliases", "acronyms", "state", "part_of", "themes", "date", "place",
                 "note", "wikidata"}
STATE_FIELDS = {"iso3", "aliases", "demonyms", "wikidata"}
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
ISO3 = re.compile(r"^[A-Z]{3}$")
WIKIDATA = re.compile(r"^Q[1-9][0-9]*$")


@dataclass
class Entity:
    id: str
    kind: str
    name: str
    aliases: list[str] = field(default_factory=list)
    acronyms: list[str] = field(default_factory=list)
    state: str | None = None
    part_of: str | None = None
    themes: list[str] = field(default_factory=list)
    date: object = None
    place: str | None = None
    note: str | None = None
    wikidata: str | None = None
    where: Located | None = None


@dataclass
class StateNames:
    iso3: str
    aliases: list[str] = field(default_factory=list)
    demonyms: list[str] = field(default_factory=list)
    wikidata: str | None = None


@dataclass
class Registry:
    entities: dict[str, Entity]
    states: dict[str, StateRecord]
    state_names: dict[str, StateNames]

    def kind_of(self, ref: str) -> str | None:
        """'State' for a known ISO3 code, the entity kind for a registry id, None if unknown."""
        if ISO3.match(ref):
            return "State" if ref in self.states else None
        entity = self.entities.get(ref)
        return entity.kind if entity else None


def _str_list(entry: Located, key: str) -> list[str]:
    value = entry.get(key) or []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise entry.error("expected a list of non-empty strings", key)
    return value


def _optional_str(entry: Located, keys: tuple[str, ...]) -> None:
    for key in keys:
        if entry.get(key) is not None and (not isinstance(entry[key], str) or not entry[key].strip()):
            raise entry.error("expected a non-empty string", key)


def _entity(entry: Located, kinds: set[str], themes: set[str]) -> Entity:
    unknown = set(entry) - ENTITY_FIELDS
    if unknown:
        raise entry.error(f"unknown field; allowed: {sorted(ENTITY_FIELDS)}", sorted(unknown, key=str)[0])
    for key in ("id", "kind", "name"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            raise entry.error("required, a non-empty string", key)
    if not SLUG.fullmatch(entry["id"]):
        raise entry.error(f"{entry['id']!r} is not a lower-case slug (a-z, 0-9, -)", "id")
    if entry["kind"] not in kinds:
        raise entry.error(f"unknown kind {entry['kind']!r}; one of {sorted(kinds)}", "kind")
    for theme in _str_list(entry, "themes"):
        if theme not in themes:
            raise entry.error(f"unknown theme {theme!r} (see ontology/themes.ttl)", "themes")
    if entry.get("date") is not None:
        try:
            parse_partial_date(entry["date"])
        except ValueError as e:
            raise entry.error(str(e), "date") from None
    _optional_str(entry, ("state", "part_of", "place", "note"))
    if entry.get("wikidata") is not None and not WIKIDATA.fullmatch(str(entry["wikidata"])):
        raise entry.error(f"{entry['wikidata']!r} is not a Wikidata id (Q123)", "wikidata")
    return Entity(
        id=entry["id"], kind=entry["kind"], name=entry["name"].strip(),
        aliases=_str_list(entry, "aliases"), acronyms=_str_list(entry, "acronyms"),
        state=entry.get("state"), part_of=entry.get("part_of"), themes=_str_list(entry, "themes"),
        date=entry.get("date"), place=entry.get("place"), note=entry.get("note"),
        wikidata=entry.get("wikidata"), where=entry,
    )


def _state_names(entry: Located, states: dict[str, StateRecord]) -> StateNames:
    unknown = set(entry) - STATE_FIELDS
    if unknown:
        raise entry.error(f"unknown field; allowed: {sorted(STATE_FIELDS)}", sorted(unknown, key=str)[0])
    iso3 = entry.get("iso3")
    if not isinstance(iso3, str) or iso3 not in states:
        raise entry.error(f"{iso3!r} is not an ISO 3166 alpha-3 code of a known state", "iso3")
    if entry.get("wikidata") is not None and not WIKIDATA.fullmatch(str(entry["wikidata"])):
        raise entry.error(f"{entry['wikidata']!r} is not a Wikidata id (Q123)", "wikidata")
    return StateNames(iso3, _str_list(entry, "aliases"), _str_list(entry, "demonyms"), entry.get("wikidata"))


def load_registry(folder: Path, ontology: Ontology, themes: set[str], states: dict[str, StateRecord]) -> Registry:
    """Read every registry file (`states`: the reference set of states, which entries may name); collect all errors
    before raising so a curator sees them together."""
    kinds = ontology.registry_kinds()
    entities: dict[str, Entity] = {}
    names: dict[str, StateNames] = {}
    errors: list[SeedError] = []
    for path in sorted(folder.glob("*.yaml")):
        data = load_yaml(path) or []
        if not isinstance(data, list):
            raise SeedError("expected a list of entries", path, 1)
        for i, entry in enumerate(data):
            try:
                if not isinstance(entry, Located):
                    raise SeedError("each entry must be a mapping", path, item_line(data, i, 1))
                if "iso3" in entry:
                    sn = _state_names(entry, states)
                    if sn.iso3 in names:
                        raise entry.error(f"state {sn.iso3} listed twice", "iso3")
                    names[sn.iso3] = sn
                    continue
                entity = _entity(entry, kinds, themes)
                if entity.id in entities:
                    first = entities[entity.id].where
                    where = f"{first.file.name}:{first.line}"
                    raise entry.error(f"duplicate id {entity.id!r} (first at {where})", "id")
                entities[entity.id] = entity
            except SeedError as e:
                errors.append(e)
    registry = Registry(entities, states, names)
    errors.extend(_check_references(registry))
    if errors:
        raise SeedErrors(errors)
    return registry


def _check_references(registry: Registry) -> list[SeedError]:
    errors = []
    for entity in registry.entities.values():
        where = entity.where
        if entity.state and registry.kind_of(entity.state) != "State":
            errors.append(where.error(f"{entity.state!r} is not a known ISO3 state code", "state"))
        if entity.part_of and entity.part_of not in registry.entities:
            errors.append(where.error(f"unknown registry id {entity.part_of!r}", "part_of"))
        if entity.part_of == entity.id:
            errors.append(where.error("an entity cannot be part of itself", "part_of"))
    return errors
