"""Rasa custom actions, one module per domain; each is thin over the services in bot/."""

from bot.core.logs import install_log_scrubbing

# The action server's entry point: its log lines, like the gateway's, never carry a CPR
# number or a chat session id.
install_log_scrubbing()
