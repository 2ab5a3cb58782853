"""Side panes of the workspace: runs list, alerts list, run overview, header bar.

Every text goes through the app's glyph table (``self.app.glyphs.text``), so the ASCII fallback
shows no Unicode symbol."""

from __future__ import annotations

import json
import math
import time

from rich.text import Text
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ...store.reader import flatten
from ...store.series import Alert
from ..colors import ASCII_STATUS, LEVEL_STYLE, LEVELS, STATUS_MARK, run_colour, run_swatch
from ..model import Project, RunData
from ..render import BRAILLE, fmt_num
from ..text import ago


def _glyphs(widget):
    return getattr(widget.app, "glyphs", BRAILLE)


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
        g = _glyphs(self)
        for r in project.ordered():
            hidden = r.id in project.hidden
            mark, colour = STATUS_MARK.get(r.row.status, STATUS_MARK["unknown"])
            if not self.unicode:
                mark = ASCII_STATUS.get(r.row.status, "?")
            t = Text()
            t.append(g.text(run_swatch(r.index)) + " ", style=run_colour(r.index) if not hidden else "grey42")
            t.append(mark + " ", style=colour)
            t.append(r.name, style="grey50" if hidden else "")
            step = last_step(r)
            t.append(g.text(f"\n    {'hidden · ' if hidden else ''}step {step if step is not None else '-'}"
                            f" · {ago(now - r.last_time)} ago"), style="grey50")
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
        g = _glyphs(self)
        self.border_title = g.text(f"Alerts ({len(shown)})" + (f" · {new} new" if new else ""))
        self.border_subtitle = g.text("" if self.min_level == "info" else f"≥ {self.min_level}")
        opts = []
        for a in shown:
            t = Text()
            if a.id > self.seen_id:
                t.append(g.text("● "), style="bold #ffaf00")
            t.append(f"{a.level.upper():5} ", style=LEVEL_STYLE.get(a.level, LEVEL_STYLE["warn"]))
            t.append(g.text(a.title), style="bold")
            t.append(g.text(f"\n  {a.run_name} · step {a.step if a.step is not None else '-'} · "
                            f"{ago(now - a.time)} ago"), style="grey50")
            if a.text:
                t.append(g.text(f"\n  {a.text}"), style="grey70")
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
    """The highlighted run: identity, last/min/max of each metric, text-valued metrics, config.

    Sits in a scrolling, focusable box (``#overview-box``): the summary comes first, so it shows
    without scrolling; the wheel, or Tab then arrows/PgDn, reach the rest."""

    DEFAULT_CSS = "Overview { height: auto; }"

    def __init__(self, **kw):
        super().__init__(**kw)
        self._sig = None

    def show_run(self, run: RunData | None, system: bool = False) -> None:
        if run is None:
            sig = None
            text = Text("No run selected.", style="grey50")
        else:
            series = run.system if system else run.metrics
            sig = (run.id, run.row, tuple((k, s.version) for k, s in series.items()), run.ids.n,
                   tuple(run.texts.items()), json.dumps(run.config, default=str))
            if sig == self._sig:
                return
            text = self._describe(run, series, system)
        if sig != self._sig or run is None:
            self._sig = sig
            self.update(text)

    def _describe(self, run: RunData, series: dict, system: bool) -> Text:
        g = _glyphs(self)
        text = Text()
        text.append(g.text(run.name), style=f"bold {run_colour(run.index)}")
        text.append(g.text(f"\n{run.row.status} · id {run.id[:8]}"), style="grey62")
        if run.row.group:
            text.append(g.text(f" · group {run.row.group}"), style="grey62")
        text.append("\nSummary" if not system else "\nSystem metrics", style="bold")
        text.append("  last / min / max\n", style="grey50")
        if not series:
            if run.ids.n and not system:
                text.append(f"  (no numeric metrics in {run.ids.n} rows)\n", style="grey50")
            else:
                text.append("  (no metrics yet)\n", style="grey50")
        for k in sorted(series):
            s = series[k]
            text.append(g.text(f"  {k}\n"), style="grey70")
            text.append(f"    {fmt_num(s.last_raw)} / {fmt_num(s.lo)} / {fmt_num(s.hi)}\n")
        if run.texts and not system:
            text.append("\nText values", style="bold")
            text.append("  (not charted)\n", style="grey50")
            for k in sorted(run.texts):
                text.append(g.text(f"  {k}: "), style="grey62")
                text.append(g.text(f"{run.texts[k]}\n"))
        cfg = {k: v for k, v in flatten(run.config).items() if not str(k).startswith("_")}
        text.append("\nConfig\n", style="bold")
        if not cfg:
            text.append("  (no config)\n", style="grey50")
        for k, v in list(cfg.items())[:40]:
            val = v if isinstance(v, str) else json.dumps(v, default=str)
            text.append(g.text(f"  {k}: "), style="grey62")
            text.append(g.text(f"{val}\n"))
        return text


class HeaderBar(Static):
    """Top line: project, run counts, alert count, loading state, notes, data age; a transient
    status message (``status``) replaces the notes for a few seconds."""

    DEFAULT_CSS = "HeaderBar { height: 1; background: $panel; color: $text; padding: 0 1; }"

    def show(self, project: Project, new_alerts: int, now: float, note: str = "", status: str = "") -> None:
        g = _glyphs(self)
        runs = project.ordered()
        running = sum(1 for r in runs if r.row.status == "running")
        last = max((r.last_time for r in runs if math.isfinite(r.last_time)), default=math.nan)
        t = Text()
        t.append("trackio ", style="bold #ff8700")
        t.append(g.text(project.name), style="bold")
        t.append(f"  {len(runs)} run{'s' if len(runs) != 1 else ''} ({running} running)", style="")
        hidden = sum(1 for r in runs if r.id in project.hidden)
        if hidden:
            t.append(f", {hidden} hidden", style="")
        if new_alerts:
            t.append(g.text(f"  ⚑ {new_alerts} new alert{'s' if new_alerts != 1 else ''}"), style="bold #ffaf00")
        if project.loading:
            t.append(g.text(f"  loading {project.loading} run{'s' if project.loading != 1 else ''}…"), style="grey62")
        if status:
            t.append(g.text(f"  {status}"), style="bold")
        elif note:
            t.append(g.text(f"  {note}"), style="grey62")
        t.append(f"  updated {ago(now - last)} ago", style="grey50")
        self.update(t)


def local_zone() -> str:
    """Name of the local time zone (``JST``, ``UTC``) for labels of wall-time axes."""
    return time.strftime("%Z") or "local"
