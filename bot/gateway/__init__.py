"""The gateway: citizen chat API, web pages and health checks in front of Rasa."""
