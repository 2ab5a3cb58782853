"""Side panes of the workspace: runs list, alerts list, run overview, header bar."""

from __future__ import annotations

import json
import math

from rich.text import Text
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...store.reader import flatten
from ...store.series import Alert
from ..colors import ASCII_STATUS, LEVEL_STYLE, LEVELS, STATUS_MARK, run_colour
from ..model import Project, RunData
from ..render import fmt_num


def ago(seconds: float) -> str:
    """Compact age: ``3s``, ``5m``, ``2h``, ``4d`` (``-`` when unknown)."""
    if not math.isfinite(seconds):
        return "-"
    s = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if s >= size:
            return f"{s // size}{unit}"
    return f"{s}s"


def last_step(run: RunData) -> int | None:
    return int(run.steps.v.max()) if run.steps.n else None


class RunsList(OptionList):
    """Runs in creation order: colour swatch, status mark, name, last step, time since last write."""

    DEFAULT_CSS = "RunsList { height: 1fr; border: round $panel-lighten-2; } RunsList:focus { border: round $accent; }"

    def __init__(self, unicode: bool = True, **kw):
        super().__init__(**kw)
        self.border_title = "Runs"
        self.unicode = unicode
        self._sig = None
        self.run_ids: list[str] = []

    def update_runs(self, project: Project, now: float) -> None:
        rows = []
        for r in project.ordered():
            hidden = r.id in project.hidden
            mark, colour = STATUS_MARK.get(r.row.status, STATUS_MARK["unknown"])
            if not self.unicode:
                mark = ASCII_STATUS.get(r.row.status, "?")
            t = Text()
            t.append(("□ " if hidden else "■ ") if self.unicode else ("o " if hidden else "# "),
                     style=run_colour(r.index) if not hidden else "grey42")
            t.append(mark + " ", style=colour)
            t.append(r.name, style="grey50" if hidden else "")
            step = last_step(r)
            t.append(f"\n    step {step if step is not None else '-'} · {ago(now - r.last_time)} ago",
                     style="grey50")
            rows.append((r.id, t))
        sig = tuple((i, t.plain) for i, t in rows)
        if sig == self._sig:
            return
        old, self._sig = self._sig, sig
        if old is not None and [i for i, _ in old] == [i for i, _ in rows]:
            for k, ((_, t), (_, before)) in enumerate(zip(rows, old)):  # same runs: update in place
                if t.plain != before:
                    self.replace_option_prompt_at_index(k, t)
            return
        keep = self.highlighted
        self.clear_options()
        self.add_options([Option(t, id=i) for i, t in rows])
        self.run_ids = [i for i, _ in rows]
        if rows:
            self.highlighted = min(keep if keep is not None else len(rows) - 1, len(rows) - 1)

    @property
    def current(self) -> str | None:
        h = self.highlighted
        return self.run_ids[h] if h is not None and h < len(self.run_ids) else None


class AlertsList(OptionList):
    """Alerts newest first (timestamp, then id, descending), coloured by level; unseen ones marked.
    Filter: minimum level."""

    DEFAULT_CSS = "AlertsList { height: 1fr; border: round $panel-lighten-2; } AlertsList:focus { border: round $accent; }"

    def __init__(self, **kw):
        super().__init__(**kw)
        self.min_level = "info"
        self.seen_id = 0  # alerts with a larger id are "new"
        self._sig = None
        self._texts: list[str] = []
        self.shown: list[Alert] = []
        self.border_title = "Alerts"

    def update_alerts(self, alerts: list[Alert], now: float) -> None:
        floor = LEVELS.index(self.min_level)
        newest = sorted(alerts, key=lambda a: (a.time, a.id), reverse=True)
        shown = [a for a in newest if LEVELS.index(a.level if a.level in LEVELS else "warn") >= floor]
        new = sum(1 for a in alerts if a.id > self.seen_id)
        self.border_title = f"Alerts ({len(shown)})" + (f" · {new} new" if new else "")
        self.border_subtitle = "" if self.min_level == "info" else f"≥ {self.min_level}"
        opts = []
        for a in shown:
            t = Text()
            if a.id > self.seen_id:
                t.append("● ", style="bold #ffaf00")
            t.append(f"{a.level.upper():5} ", style=LEVEL_STYLE.get(a.level, LEVEL_STYLE["warn"]))
            t.append(a.title, style="bold")
            t.append(f"\n  {a.run_name} · step {a.step if a.step is not None else '-'} · {ago(now - a.time)} ago",
                     style="grey50")
            if a.text:
                t.append(f"\n  {a.text}", style="grey70")
            opts.append(Option(t, id=str(a.id)))
        sig = (tuple(o.id for o in opts), self.seen_id, self.min_level)
        texts = [o.prompt.plain for o in opts]
        if sig == self._sig:
            for k, (t, before) in enumerate(zip(texts, self._texts)):  # only the ages moved
                if t != before:
                    self.replace_option_prompt_at_index(k, opts[k].prompt)
            self._texts = texts
            return
        self._sig, self._texts = sig, texts
        self.shown = shown
        keep = self.highlighted
        self.clear_options()
        self.add_options(opts or [Option(Text("No alerts.", style="grey50"), disabled=True)])
        if opts:
            self.highlighted = min(keep or 0, len(opts) - 1)

    @property
    def current(self) -> Alert | None:
        h = self.highlighted
        return self.shown[h] if h is not None and h < len(self.shown) else None


class Overview(Static):
    """The highlighted run: identity, config, and last/min/max of each metric."""

    DEFAULT_CSS = "Overview { height: 1fr; border: round $panel-lighten-2; overflow-y: auto; }"

    def __init__(self, **kw):
        super().__init__(**kw)
        self.border_title = "Overview"
        self._sig = None

    def show_run(self, run: RunData | None, system: bool = False) -> None:
        if run is None:
            sig = None
            text = Text("No run selected.", style="grey50")
        else:
            series = run.system if system else run.metrics
            sig = (run.id, run.row, tuple((k, s.version) for k, s in series.items()), json.dumps(run.config, default=str))
            if sig == self._sig:
                return
            text = Text()
            text.append(run.name, style=f"bold {run_colour(run.index)}")
            text.append(f"\n{run.row.status} · id {run.id[:8]}", style="grey62")
            if run.row.group:
                text.append(f" · group {run.row.group}", style="grey62")
            cfg = {k: v for k, v in flatten(run.config).items() if not str(k).startswith("_")}
            text.append("\n\nConfig\n", style="bold")
            if not cfg:
                text.append("  (no config)\n", style="grey50")
            for k, v in list(cfg.items())[:40]:
                val = v if isinstance(v, str) else json.dumps(v, default=str)
                text.append(f"  {k}: ", style="grey62")
                text.append(f"{val}\n")
            text.append("\nSummary", style="bold")
            text.append("  last / min / max\n", style="grey50")
            if not series:
                text.append("  (no metrics yet)\n", style="grey50")
            for k in sorted(series):
                s = series[k]
                text.append(f"  {k}\n", style="grey70")
                text.append(f"    {fmt_num(s.last_raw)} / {fmt_num(s.lo)} / {fmt_num(s.hi)}\n")
        if sig != self._sig or run is None:
            self._sig = sig
            self.update(text)


class HeaderBar(Static):
    """Top line: project, run counts, alert count, loading state, data age."""

    DEFAULT_CSS = "HeaderBar { height: 1; background: $panel; color: $text; padding: 0 1; }"

    def show(self, project: Project, new_alerts: int, now: float, note: str = "") -> None:
        runs = project.ordered()
        running = sum(1 for r in runs if r.row.status == "running")
        last = max((r.last_time for r in runs if math.isfinite(r.last_time)), default=math.nan)
        t = Text()
        t.append("trackio ", style="bold #ff8700")
        t.append(project.name, style="bold")
        t.append(f"  {len(runs)} runs ({running} running)", style="")
        if new_alerts:
            t.append(f"  ⚑ {new_alerts} new alert{'s' if new_alerts != 1 else ''}", style="bold #ffaf00")
        if project.loading:
            t.append(f"  loading {project.loading} run{'s' if project.loading != 1 else ''}…", style="grey62")
        if note:
            t.append(f"  {note}", style="grey62")
        t.append(f"  updated {ago(now - last)} ago", style="grey50")
        self.update(t)
