"""Placeholder: the tui package arrives with its issue."""
