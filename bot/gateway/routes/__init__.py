"""The gateway's routers: the citizen side (widget, kiosk, small APIs) and the staff console."""
