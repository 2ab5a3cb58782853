"""The SQLite store: schema, the batch writer, and read-only readers. Imports no UI package."""
