"""The reference terminal client for the Nous Portal terminal-billing API (see CONTRACT.md)."""
