"""YAML loading that remembers where each mapping and each value came from, for error messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ingest.errors import SeedError


class Located(dict):
    """A mapping from a YAML file that knows its file, its line and each key's line."""

    file: Path
    line: int
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        return self.key_lines.get(key, self.line)

    def error(self, message: str, field: str | None = None) -> SeedError:
        return SeedError(message, self.file, self.line_of(field) if field else self.line, field)


def _loader(path: Path) -> type[yaml.SafeLoader]:
    class Loader(yaml.SafeLoader):
        pass

    def construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> Located:
        loader.flatten_mapping(node)
        out = Located()
        out.file, out.line, out.key_lines = path, node.start_mark.line + 1, {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key in out:
                raise SeedError(f"duplicate key {key!r}", path, key_node.start_mark.line + 1, str(key))
            out[key] = loader.construct_object(value_node, deep=True)
            out.key_lines[str(key)] = key_node.start_mark.line + 1
        return out

    # Dates stay strings: the ingest parses them itself so that a bad date is reported with its line.
    Loader.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))
    Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    return Loader


def load_yaml(path: Path) -> Any:
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise SeedError(f"not UTF-8 (byte {e.start})", path, _line_at(path.read_bytes(), e.start)) from None
    try:
        return yaml.load(text, Loader=_loader(path))  # noqa: S506 - SafeLoader subclass
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        raise SeedError(f"invalid YAML: {e.problem or e.context}", path, mark.line + 1 if mark else None) from None
    except yaml.YAMLError as e:
        raise SeedError(f"invalid YAML: {e}", path) from None


def _line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1
