"""Placeholder: the web package arrives with its issue."""
