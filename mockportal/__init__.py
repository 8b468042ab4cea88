"""mockportal: a faithful, stateful fake of the Nous Portal terminal-billing API."""

from mockportal.app import create_app

__all__ = ["create_app"]
