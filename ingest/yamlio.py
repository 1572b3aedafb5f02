"""YAML loading that remembers where each mapping, each list and each value came from, for error messages."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

import yaml

from ingest.errors import SeedError

MAX_DEPTH = 50  # no seed file nests deeper than a few levels; for the message about one that breaks PyYAML


class Located(dict):
    """A mapping from a YAML file that knows its file, its line and each key's line."""

    file: Path
    line: int
    key_lines: dict[str, int]

    def line_of(self, key: object) -> int:
        return self.key_lines.get(str(key), self.line)

    def error(self, message: str, field: object = None) -> SeedError:
        field = None if field is None else str(field)
        return SeedError(message, self.file, self.line_of(field) if field else self.line, field)


class LocatedList(list):
    """A list from a YAML file that knows its file, its line and each item's line."""

    file: Path
    line: int
    item_lines: list[int]

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


def item_line(items: object, index: int, default: int | None = None) -> int | None:
    """The line of `items[index]` if `items` came from a YAML file, else `default`."""
    return items.line_of(index) if isinstance(items, LocatedList) else default


def _line_numbers(text: str) -> Callable[[yaml.Mark], int]:
    """A mark's 1-based line, counted in line feeds as editors and the other stages count (PyYAML also breaks
    lines at a lone CR, U+0085, U+2028 and U+2029, which would shift every later line)."""
    if not re.search("[\r\x85\u2028\u2029]", text):
        return lambda mark: mark.line + 1
    starts = [m.start() for m in re.finditer("\n", text)]
    return lambda mark: bisect.bisect_left(starts, mark.index) + 1


def _loader(path: Path, line: Callable[[yaml.Mark], int]) -> type[yaml.SafeLoader]:
    class Loader(yaml.SafeLoader):
        def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
            # PyYAML's scalar constructors raise bare ValueError/KeyError/... on values such as `0x_` or
            # `!!bool maybe`: report them as invalid YAML at the node's line.
            try:
                return super().construct_object(node, deep)
            except (SeedError, yaml.YAMLError, RecursionError):
                raise
            except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError) as e:
                what = f" {node.value!r}" if isinstance(node, yaml.ScalarNode) else ""
                raise SeedError(f"invalid YAML: cannot read{what} as {node.tag.rsplit(':', 1)[-1]} ({e})",
                                path, line(node.start_mark)) from None

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> Located:
        loader.flatten_mapping(node)
        out = Located()
        out.file, out.line, out.key_lines = path, line(node.start_mark), {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                raise SeedError("a mapping key must be a plain value, not a list or a mapping", path,
                                line(key_node.start_mark))
            if key in out:
                raise SeedError(f"duplicate key {key!r}", path, line(key_node.start_mark), str(key))
            out[key] = loader.construct_object(value_node, deep=True)
            out.key_lines[str(key)] = line(key_node.start_mark)
        return out

    def construct_sequence(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> LocatedList:
        if not isinstance(node, yaml.SequenceNode):
            raise SeedError(f"invalid YAML: expected a list, found {node.id}", path, line(node.start_mark))
        out = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
        out.file, out.line = path, line(node.start_mark)
        out.item_lines = [line(child.start_mark) for child in node.value]
        return out

    def construct_str(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> str:
        value = loader.construct_scalar(node)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as e:  # a "\ud800" escape: a lone surrogate no output file can hold
            raise SeedError(f"invalid YAML: string with an unpaired surrogate {value[e.start]!r}", path,
                            line(node.start_mark)) from None
        return value

    # Dates stay strings: the ingest parses them itself so that a bad date is reported with its line.
    Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))
    Loader.add_constructor("tag:yaml.org,2002:str", construct_str)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, construct_sequence)
    return Loader


def load_yaml(path: Path) -> Any:
    """The file's content with Located mappings and LocatedList lists; SeedError (file, line) if it is not
    UTF-8 or not YAML."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SeedError(f"not UTF-8 (byte {e.start})", path, _line_at(data, e.start)) from None
    line = _line_numbers(text)
    try:
        content = yaml.load(text, Loader=_loader(path, line))  # noqa: S506 - SafeLoader subclass
        if content is None:  # said here, or every reference into the file is reported instead (issue 11)
            raise SeedError("the file is empty (no YAML content); a seed file holds at least one entry", path, 1)
        return content
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise SeedError(f"invalid YAML: {e.problem or e.context}", path, line(mark) if mark else 1) from None
    except yaml.reader.ReaderError as e:  # a character YAML does not allow (control characters, ...)
        raise SeedError(f"invalid YAML: {e.reason} {chr(e.character)!r}" if isinstance(e.character, int)
                        else f"invalid YAML: {e.reason}", path, text.count("\n", 0, e.position) + 1) from None
    except yaml.YAMLError as e:
        raise SeedError(f"invalid YAML: {e}", path, 1) from None
    except RecursionError:  # PyYAML composes and constructs recursively
        raise SeedError("invalid YAML: lists/mappings nested too deeply", path, _too_deep(text, line)) from None


def _too_deep(text: str, line: Callable[[yaml.Mark], int]) -> int:
    """The line where collections first nest deeper than MAX_DEPTH (the event parser is not recursive)."""
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return line(event.start_mark)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        return line(mark) if mark else 1
    return 1


def _line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1
