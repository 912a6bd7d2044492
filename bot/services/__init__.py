"""The service layer: bookings, courses, handoff, knowledge answers, library, staff accounts.

Services take a database URL or a session and hold no state between calls; the gateway, the
action server and the CLI call them.
"""
