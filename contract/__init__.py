"""The contract suite: Hypothesis properties of the terminal-billing contract, run over HTTP
against an embedded mockportal or any portal in HERMES_PORTAL_BASE_URL."""
