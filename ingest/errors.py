"""The one error type of the ingest: says what is wrong and where (file, line, field)."""

from __future__ import annotations

from pathlib import Path


class SeedError(Exception):
    def __init__(self, message: str, file: Path | str | None = None, line: int | None = None,
                 field: str | None = None):
        self.message, self.file, self.line, self.field = message, file, line, field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = str(self.file) if self.file else "<input>"
        if self.line:
            where += f":{self.line}"
        what = f"{self.field}: " if self.field else ""
        return f"{where}: {what}{self.message}"


class SeedErrors(Exception):
    """Several independent errors found in one pass, so a curator can fix them all at once."""

    def __init__(self, errors: list[SeedError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))
