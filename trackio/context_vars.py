"""Context variables naming the current run, project and Space (contract §1.5).

``from trackio import context_vars`` works (TRL does this). All default to ``None``; ``init`` sets
``current_run``, ``current_project`` and ``current_space_id``; ``finish`` resets them.
"""

from contextvars import ContextVar

current_run: ContextVar = ContextVar("current_run", default=None)
current_project: ContextVar = ContextVar("current_project", default=None)
current_space_id: ContextVar = ContextVar("current_space_id", default=None)
current_server: ContextVar = ContextVar("current_server", default=None)
current_server_write_token: ContextVar = ContextVar("current_server_write_token", default=None)
