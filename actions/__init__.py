"""Rasa custom actions, one module per domain; each is thin over the services in bot/."""
