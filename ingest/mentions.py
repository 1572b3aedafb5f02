"""Stage 3: automatic detection of registry entities and states in passages.

Surface forms are the names, aliases, acronyms and demonyms of the registry plus the ISO/UN names of states.
Matching is case-sensitive, on whole words, leftmost-longest. A form shared by two entities is ambiguous and
is not linked (it is reported). Capitalised phrases that resolve to nothing are collected as candidates for
the registry."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from ingest.documents import Document, Passage
from ingest.registry import Registry


@dataclass(frozen=True)
class Mention:
    passage: Passage
    ref: str  # registry id or ISO3
    start: int  # offsets within the passage text
    end: int
    surface: str


@dataclass
class Candidate:
    surface: str
    count: int
    example: Passage


def surface_forms(registry: Registry) -> tuple[dict[str, str], dict[str, set[str]]]:
    """form -> ref for unambiguous forms, and form -> refs for ambiguous ones."""
    owners: dict[str, set[str]] = defaultdict(set)
    for entity in registry.entities.values():
        for form in [entity.name, *entity.aliases, *entity.acronyms]:
            owners[form.strip()].add(entity.id)
    for iso3, record in registry.states.items():
        if record.un_status == "former":
            continue  # former states are matched only through curated aliases
        for form in record.names:
            owners[form.strip()].add(iso3)
    for iso3, names in registry.state_names.items():
        for form in [*names.aliases, *names.demonyms]:
            owners[form.strip()].add(iso3)
    owners.pop("", None)
    unique = {form: next(iter(refs)) for form, refs in owners.items() if len(refs) == 1}
    ambiguous = {form: refs for form, refs in owners.items() if len(refs) > 1}
    return unique, ambiguous


SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹"


def compile_matcher(forms: Iterable[str]) -> re.Pattern[str]:
    # Longest first so that the regex alternation is leftmost-longest at each position.
    alternatives = sorted(set(forms), key=len, reverse=True)
    body = "|".join(re.escape(f) for f in alternatives) or r"(?!x)x"
    # A form ends at a non-word character; superscript digits (footnote markers glued to a name) end it too.
    return re.compile(rf"(?<![\w-])(?:{body})(?![^\W{SUPERSCRIPTS}])")


def detect(docs: list[Document], registry: Registry) -> tuple[list[Mention], dict[str, set[str]]]:
    unique, ambiguous = surface_forms(registry)
    matcher = compile_matcher([*unique, *ambiguous])
    mentions = []
    for doc in docs:
        for passage in doc.passages:
            for m in matcher.finditer(passage.text):
                ref = unique.get(m.group())
                if ref:
                    mentions.append(Mention(passage, ref, m.start(), m.end(), m.group()))
    return mentions, ambiguous


# A run of capitalised words, allowing short connectors inside ("Ministry of Foreign Affairs").
# Lower-case words that may join the capitalised words of one name ("Ministry of Foreign Affairs").
_CONNECTORS = frozenset({"of", "for", "and", "on", "the", "de", "des", "du", "la", "le", "del", "y", "in"})
_CONNECTOR = "|".join(sorted(_CONNECTORS))
_CAPITALISED = re.compile(
    rf"(?<![\w-])(?:[A-Z][\w'’&.-]*[\w])(?:\s+(?:(?:{_CONNECTOR})\s+)*"
    r"[A-Z][\w'’&.-]*[\w])*"
)
_CONNECTOR_END = re.compile(rf"\s+(?:{_CONNECTOR})$")


def unresolved_candidates(docs: list[Document], mentions: list[Mention], ignore: set[str]) -> list[Candidate]:
    """Capitalised phrases not fully explained by mentions: multi-word names and acronyms, not sentence-initial
    words. A phrase that contains a mention but has other capitalised words ("Ghana Diaspora Forum" around
    the state "Ghana") is a candidate; one made only of mentions and connectors is not."""
    covered: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
    for m in mentions:
        covered[(m.passage.doc_id, m.passage.n)].append((m.start, m.end))
    counts: Counter[str] = Counter()
    examples: dict[str, Passage] = {}
    for doc in docs:
        for passage in doc.passages:
            spans = covered.get((doc.id, passage.n), [])
            for m in _CAPITALISED.finditer(passage.text):
                start = m.start()
                surface = _CONNECTOR_END.sub("", m.group())
                article = _ARTICLE.match(surface)
                if article:
                    start, surface = start + article.end(), surface[article.end():]
                if not surface or not _unexplained(surface, start, spans):
                    continue
                if not _looks_like_name(surface, passage.text, start) or surface in ignore:
                    continue
                counts[surface] += 1
                examples.setdefault(surface, passage)
    return [Candidate(s, c, examples[s]) for s, c in counts.most_common()]


_ARTICLE = re.compile(r"^(?:The|A|An)\s+(?=[A-Z])")
def _unexplained(surface: str, start: int, spans: list[tuple[int, int]]) -> bool:
    """True if some word of the phrase is neither inside a mention nor a connector."""
    for w in re.finditer(r"\S+", surface):
        a, b = start + w.start(), start + w.end()
        if w.group() in _CONNECTORS or any(s <= a and b <= e for s, e in spans):
            continue
        return True
    return False


def _looks_like_name(surface: str, text: str, start: int) -> bool:
    words = surface.split()
    if len(words) >= 2:
        return any(not w.isupper() for w in words) or len(words) <= 4
    word = words[0]
    if word.isupper() and 2 <= len(word) <= 10 and word.isalpha():
        return True  # an acronym
    before = text[:start].rstrip()
    sentence_start = not before or before[-1] in ".:;!?•·-–—(\"“‘'"
    return not sentence_start and len(word) > 2 and not word.isupper()
