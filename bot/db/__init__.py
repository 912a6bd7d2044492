"""The app database: models, engines and sessions, transcript persistence; Alembic runs on it."""
