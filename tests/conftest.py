"""Shared pytest fixtures live in tests/fixtures_*.py and are registered here."""

pytest_plugins = [
    "tests.fixtures_db",
    "tests.fixtures_mail",
    "tests.fixtures_live",
    "tests.fixtures_redis",
    "tests.fixtures_browser",
]
