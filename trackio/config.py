"""``trackio.config``: a run's configuration, a ``dict`` with attribute access (contract §1.4)."""

from __future__ import annotations

_MISSING = object()


class Config(dict):
    """A run's config: a ``dict`` subclass (``json.dumps`` works) that also allows ``config.lr``.

    Every change bumps :attr:`_version`; the run's writer persists the config within 0.25 s of a
    change (values are made JSON-safe when persisted). ``update`` accepts a mapping or an object
    (its public attributes) plus keyword items, and ignores ``allow_val_change`` (a wandb keyword that
    transformers and accelerate pass). Reading a missing attribute raises ``AttributeError``.
    """

    __slots__ = ("_version",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        object.__setattr__(self, "_version", 0)

    def _touch(self) -> None:
        object.__setattr__(self, "_version", self._version + 1)

    def snapshot(self) -> tuple[int, dict]:
        """``(version, JSON-safe copy)``; safe to call from another thread while the dict changes."""
        version = self._version
        for _ in range(10):
            try:
                items = list(dict.items(self))
                break
            except RuntimeError:  # changed size during iteration; try again
                continue
        else:
            items = []
        from .values import to_json_safe

        return version, {str(k): to_json_safe(v) for k, v in items}

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"'Config' object has no attribute '{name}'") from None

    def __setattr__(self, name: str, value) -> None:
        if name.startswith("_"):
            raise AttributeError(f"Config attributes starting with '_' cannot be set: '{name}'")
        self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setitem__(self, key, value) -> None:
        super().__setitem__(key, value)
        self._touch()

    def __delitem__(self, key) -> None:
        super().__delitem__(key)
        self._touch()

    def __ior__(self, other):
        self.update(other)
        return self

    def update(self, d=None, /, allow_val_change=None, **kwargs) -> None:  # noqa: ARG002 - wandb keyword
        if d is not None:
            if hasattr(d, "keys"):
                super().update(d)
            elif isinstance(d, (list, tuple)):
                super().update(d)
            else:
                attrs = getattr(d, "__dict__", None)
                if isinstance(attrs, dict):
                    super().update({k: v for k, v in attrs.items() if not k.startswith("_")})
                else:
                    super().update(d)
        if kwargs:
            super().update(kwargs)
        self._touch()

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key, default=_MISSING):
        if default is _MISSING:
            value = super().pop(key)
        else:
            value = super().pop(key, default)
        self._touch()
        return value

    def popitem(self):
        item = super().popitem()
        self._touch()
        return item

    def clear(self) -> None:
        super().clear()
        self._touch()

    def __repr__(self) -> str:
        return f"Config({dict.__repr__(self)})"

    def __reduce__(self):
        return (Config, (dict(self),))
