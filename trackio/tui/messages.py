"""Messages the data worker posts to the workspace (thread-safe ``post_message``)."""

from __future__ import annotations

from textual.message import Message

from ..store.series import Delta, RowBlock


class Polled(Message):
    """New rows, alerts, configs and the run listing since the last poll. ``first`` marks the
    initial read (alerts then are history, not news)."""

    def __init__(self, delta: Delta, first: bool = False):
        super().__init__()
        self.delta = delta
        self.first = first


class RunLoaded(Message):
    """Runs' histories (strided previews where ``block.exact`` is False) replacing what is held."""

    def __init__(self, blocks: list[RowBlock], pending: int):
        super().__init__()
        self.blocks = blocks
        self.pending = pending  # runs still waiting for their exact history


class LoadFailed(Message):
    """The project could not be opened or read; ``text`` is shown to the user."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text
