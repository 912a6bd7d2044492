"""Borgerservice-assistenten: gateway, NLU components, database models and CLI."""
