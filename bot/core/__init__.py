"""What every part of the project shares: the settings and the fixed topic list."""
