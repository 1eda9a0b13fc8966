"""Finding and reading rule files, with one-line errors for what cannot be read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


class SourceError(Exception):
    """A path that is not a readable UTF-8 rule file, or a folder without any."""


@dataclass(frozen=True, slots=True)
class Source:
    path: Path
    text: str


def find_sources(paths: Iterable[Path]) -> list[Path]:
    """Files as given; folders searched recursively for `*.promo`, in sorted order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*.promo") if p.is_file())
            if not files:
                raise SourceError(f"{path}: no .promo files in this folder")
            found.extend(files)
        elif path.is_file():
            found.append(path)
        else:
            raise SourceError(f"{path}: no such file or folder")
    return found


def read_source(path: Path) -> Source:
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise SourceError(f"{path}: is a folder, not a rule file") from None
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file or folder") from None
    except OSError as exc:
        raise SourceError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path}: not UTF-8 text (byte {exc.start + 1})") from None
    return Source(path, text.removeprefix("\ufeff"))
