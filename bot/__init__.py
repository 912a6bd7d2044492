"""Borgerservice-assistenten: the gateway, services, database layer, CLI and tools (see docs)."""
