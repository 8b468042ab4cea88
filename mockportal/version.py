"""mockportal's version, as installed (the package metadata, from `pyproject.toml`)."""

from __future__ import annotations

from functools import cache
from importlib import metadata


@cache
def version() -> str:
    try:
        return metadata.version("mockportal")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"
