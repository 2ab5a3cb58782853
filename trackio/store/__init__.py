"""The SQLite store: schema, the batch writer, and read-only readers. Imports no UI package.

This package module itself stays import-free: ``import trackio`` loads it, and the writer, schema and
readers are imported only when a run starts or a front end reads.
"""

# Kinds of items on a writer's queue: (KIND, call time in s since the epoch, ...).
METRIC, SYSTEM, ALERT = 0, 1, 2
