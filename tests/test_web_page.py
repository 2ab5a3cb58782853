"""The exported page in real headless Chromium, served from 127.0.0.1 (and from file://)."""

from __future__ import annotations

import math
import re
import subprocess
import sys

import pytest

from trackio.web.export import export_project
from web_fixtures import *  # noqa: F401,F403
from web_fixtures import charts

XSS = "<img src=x onerror=alert(1)>"
WAIT = 30_000  # ms: generous, the machine may be loaded


def _log(project, name, steps, start=0, resume="never", config=None, alert=None):
    import trackio

    run = trackio.init(project=project, name=name, resume=resume, config=config, auto_log_cpu=False)
    for s in range(start, start + steps):
        trackio.log({"loss": 1.0 / (1 + s) + 0.01 * math.sin(s), "acc": s / 10_000})
    if alert:
        trackio.alert(alert, "text <i>not italic</i>", level="error")
    trackio.finish()
    return run


def _wait_charts(page, predicate_js: str):
    page.wait_for_function(f"() => {{ const c = window.trackioCharts ? window.trackioCharts() : []; return {predicate_js}; }}",
                           timeout=WAIT)


@pytest.fixture
def site(trackio_dir, tmp_path):
    _log("pg", "baseline", 3000, config={"lr": 0.1})
    _log("pg", XSS, 10, config={"note": "<b>bold?</b>"}, alert="Spike <script>alert(2)</script>")
    out = tmp_path / "site"
    export_project("pg", out, trackio_dir)
    return out


def test_charts_show_each_run_with_its_points(site, static_server, page):
    page.goto(static_server(site))
    _wait_charts(page, "c.length >= 2")
    got = charts(page)
    assert set(got) == {("m", "loss"), ("m", "acc")}
    for key in got:
        assert got[key]["runs"] == ["baseline", XSS]
        assert got[key]["points"] == {"baseline": 1500, XSS: 10}  # 3,000 rows → 1,500 buckets of 2
    painted = page.evaluate("""() => Array.from(document.querySelectorAll('.chart canvas')).map(cv => {
        const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; })""")
    assert len(painted) == 2 and all(n > 1000 for n in painted)
    assert page.text_content("#project") == "pg"
    assert page.trackio_events == []


def test_markup_in_names_config_and_alerts_is_text(site, static_server, page):
    page.goto(static_server(site))
    _wait_charts(page, "c.length >= 2")
    names = page.eval_on_selector_all("#runs .run-name", "els => els.map(e => e.textContent)")
    assert names == ["baseline", XSS]
    assert page.eval_on_selector_all("img, script:not([src]), i, b", "els => els.length") == 0
    page.click("#runs li:nth-child(2) .run-name")
    page.wait_for_selector("#config:not([hidden])")
    assert page.text_content("#config-title") == XSS
    cells = page.eval_on_selector_all("#config-table td", "els => els.map(e => e.textContent)")
    assert "<b>bold?</b>" in cells
    row = page.eval_on_selector_all("#alerts tbody tr td", "els => els.map(e => e.textContent)")
    assert row[1:5] == [XSS, "ERROR", "Spike <script>alert(2)</script>", "text <i>not italic</i>"]
    legend = page.eval_on_selector_all(".u-legend .u-label", "els => els.map(e => e.textContent)")
    assert XSS in legend
    assert page.eval_on_selector_all("img, b, i", "els => els.length") == 0
    assert not any("dialog" in e for e in page.trackio_events), page.trackio_events


def test_new_rows_and_runs_appear_without_reload(trackio_dir, site, static_server, page):
    page.goto(static_server(site))
    _wait_charts(page, "c.length >= 2")
    page.evaluate("window.__same_page = 42")
    _log("pg", "baseline", 1000, start=3000, resume="allow")
    _log("pg", "late", 5)
    export_project("pg", site, trackio_dir)
    _wait_charts(page, "c.some(x => x.metric === 'loss' && x.runs.includes('late') && x.points.baseline === 2000)")
    got = charts(page)[("m", "loss")]
    assert got["runs"] == ["baseline", XSS, "late"]
    assert got["points"] == {"baseline": 2000, XSS: 10, "late": 5}
    assert page.evaluate("window.__same_page") == 42  # same document: no reload


def test_smoothing_and_x_axis_controls(site, static_server, page):
    page.goto(static_server(site))
    _wait_charts(page, "c.length >= 2")
    raw = charts(page)[("m", "loss")]
    assert raw["x"] == [0, 2999] and raw["last"]["baseline"] == pytest.approx(1 / 3000 + 0.01 * math.sin(2999), rel=1e-5)
    page.evaluate("""() => { const s = document.getElementById('smoothing'); s.value = '0.9';
                            s.dispatchEvent(new Event('input')); }""")
    _wait_charts(page, "c.length && c[0].version > 1")
    smoothed = charts(page)[("m", "loss")]
    assert smoothed["points"] == raw["points"]
    assert smoothed["last"]["baseline"] != pytest.approx(raw["last"]["baseline"], rel=1e-3)
    page.select_option("#xaxis", "wall")
    page.wait_for_function("() => window.trackioCharts().some(c => c.x[0] > 1e9)", timeout=WAIT)
    page.select_option("#xaxis", "rel")
    page.wait_for_function("() => window.trackioCharts().every(c => c.x[0] >= 0 && c.x[1] < 1e6)", timeout=WAIT)
    page.fill("#metric-filter", "acc")
    page.wait_for_function("() => window.trackioCharts().length === 1", timeout=WAIT)
    assert page.trackio_events == []


def test_opens_from_disk(site, page):
    page.goto(site.joinpath("index.html").as_uri())
    _wait_charts(page, "c.length >= 2")
    assert charts(page)[("m", "acc")]["points"] == {"baseline": 1500, XSS: 10}


def test_show_web_serves_and_follows_new_rows(trackio_dir, page, hub_env):
    _log("live", "r", 50)
    proc = subprocess.Popen([sys.executable, "-c", "from trackio.web import serve; serve('live', 0)"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=hub_env)
    try:
        line = proc.stdout.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
        assert m, line + proc.stderr.read()
        page.goto(m.group(1))
        _wait_charts(page, "c.some(x => x.metric === 'loss' && x.points.r === 50)")
        _log("live", "r", 30, start=50, resume="allow")
        _wait_charts(page, "c.some(x => x.metric === 'loss' && x.points.r === 80)")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_split_chunks_draw_every_metric(trackio_dir, tmp_path, static_server, page, monkeypatch):
    import trackio
    from trackio.store import spacefmt as fmt

    monkeypatch.setattr(fmt, "CHUNK_BYTES", 8_000)  # parts of a few metrics each
    trackio.init(project="wide", name="w", auto_log_cpu=False)
    for s in range(600):
        trackio.log({f"m{i:02d}": s + i for i in range(40)})
    trackio.finish()
    out = tmp_path / "site"
    export_project("wide", out, trackio_dir)
    assert len(list(out.glob("data/runs/*/m0-0000-p*.js"))) >= 3
    page.goto(static_server(out))
    _wait_charts(page, "c.length === 40")
    got = charts(page)
    assert {k[1] for k in got} == {f"m{i:02d}" for i in range(40)}
    assert all(c["points"] == {"w": 600} and c["last"]["w"] == 599 + int(c["metric"][1:]) for c in got.values())
    assert page.trackio_events == []


ORANGE = "(r, g, b) => Math.abs(r - 255) < 40 && Math.abs(g - 127) < 45 && b < 80"  # PALETTE[1], #ff7f0e


def _pixels(page, metric, colour_js):
    return page.evaluate(f"""() => {{ const match = {colour_js};
        const cv = document.querySelector('.chart[data-metric="{metric}"] canvas');
        const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data;
        let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 200 && match(d[i], d[i + 1], d[i + 2])) n++;
        return n; }}""")


def test_a_one_point_run_is_drawn_beside_a_dense_one(trackio_dir, tmp_path, static_server, page):
    """A series of one point has no line; on a dense shared x axis uPlot hides point markers, so
    series with few points always get them."""
    import trackio

    trackio.init(project="one", name="dense", auto_log_cpu=False)
    for s in range(2000):
        trackio.log({"loss": 1.0 + math.sin(s / 50)})
    trackio.finish()
    trackio.init(project="one", name="single", auto_log_cpu=False)
    trackio.log({"loss": 0.5}, step=1000)
    trackio.finish()
    out = tmp_path / "site"
    export_project("one", out, trackio_dir)
    page.goto(static_server(out))
    _wait_charts(page, "c.length === 1")
    assert charts(page)[("m", "loss")]["points"] == {"dense": 2000, "single": 1}
    assert _pixels(page, "loss", ORANGE) >= 12  # a visible dot in the single run's colour


WRITER = """
import time, trackio
run = trackio.init(project="kill", name="victim", auto_log_cpu=False)
for s in range(20):
    trackio.log({"loss": s})
run._writer.flush(30)
print("ready", flush=True)
time.sleep(600)
"""


def _badge(page):
    return page.eval_on_selector_all("#runs .badge", "els => els.map(e => e.textContent)")


def test_show_web_shows_a_killed_writer_as_crashed(trackio_dir, page, hub_env):
    """A SIGKILLed writer adds no rows: the served export must still follow its status."""
    writer = subprocess.Popen([sys.executable, "-c", WRITER], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=hub_env)
    server = None
    try:
        for line in writer.stdout:  # the init banner, then "ready"
            if line.strip() == "ready":
                break
        assert writer.poll() is None
        server = subprocess.Popen([sys.executable, "-c", "from trackio.web import serve; serve('kill', 0)"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=hub_env)
        m = re.search(r"(http://127\.0\.0\.1:\d+/)", server.stdout.readline())
        assert m, server.stderr.read()
        page.goto(m.group(1))
        page.wait_for_function("() => document.querySelector('#runs .badge')?.textContent === 'running'", timeout=WAIT)
        writer.kill()
        writer.wait(timeout=30)  # reaped: its pid is gone, so the run reads as crashed
        page.wait_for_function("() => document.querySelector('#runs .badge')?.textContent === 'crashed'", timeout=WAIT)
    finally:
        for proc in (writer, server):
            if proc is not None and proc.poll() is None:
                proc.kill()
            if proc is not None:
                proc.communicate(timeout=30)


def test_a_quiet_running_run_turns_stalled_on_the_page_clock(trackio_dir, tmp_path, static_server, page):
    """"stalled" depends on the time since the run's last heartbeat: the page re-evaluates it on a
    timer, without new data."""
    import time

    import trackio

    run = trackio.init(project="quiet", name="q", auto_log_cpu=False)
    trackio.log({"loss": 1.0})
    run._writer.flush(30)
    out = tmp_path / "site"
    export_project("quiet", out, trackio_dir)
    trackio.finish()
    page.clock.install(time=time.time())
    page.goto(static_server(out))
    page.wait_for_function("() => document.querySelector('#runs .badge')?.textContent === 'running'", timeout=WAIT)
    page.clock.fast_forward("11:00")
    page.wait_for_function("() => document.querySelector('#runs .badge')?.textContent === 'stalled'", timeout=WAIT)


def test_time_axes_keep_every_point_of_fast_runs(trackio_dir, tmp_path, static_server, page):
    """Rows logged microseconds apart: relative and wall time must not merge them (times kept to the
    microsecond, and equal times of one series kept apart when runs are overlaid)."""
    import trackio

    for name in ("fast", "faster"):
        trackio.init(project="fast", name=name, auto_log_cpu=False)
        for s in range(1000):
            trackio.log({"loss": 1.0 / (s + 1)})
        trackio.finish()
    out = tmp_path / "site"
    export_project("fast", out, trackio_dir)
    from trackio.store import spacefmt as fmt

    chunk = fmt.unwrap(next(out.glob("data/runs/*/m0-0000.js")).read_bytes())[1]
    assert len(set(chunk["t"])) > 100  # microseconds, not milliseconds (a tight loop logs rows µs apart)
    page.goto(static_server(out))
    _wait_charts(page, "c.length === 1")
    assert charts(page)[("m", "loss")]["points"] == {"fast": 1000, "faster": 1000}
    for axis in ("rel", "wall"):
        page.select_option("#xaxis", axis)
        page.wait_for_function(f"() => window.trackioCharts().every(c => c.axis === '{axis}')", timeout=WAIT)
        assert charts(page)[("m", "loss")]["points"] == {"fast": 1000, "faster": 1000}, axis


def test_proto_keys_are_plain_names(trackio_dir, tmp_path, static_server, page):
    """A metric, config key or run named ``__proto__`` (in a JS object literal that key sets the
    prototype instead of adding a property) is shown like any other name. trackio.log() renames a
    ``__`` key, so the metric is written as another program (or an older trackio) would."""
    import sqlite3

    import trackio

    trackio.init(project="proto", name="__proto__", config={"opt": {"__proto__": "cfg"}, "lr": 0.1}, auto_log_cpu=False)
    for s in range(10):
        trackio.log({"loss": 1.0 / (s + 1), "constructor": -s})
    trackio.finish()
    conn = sqlite3.connect(str(trackio_dir / "proto.db"))
    with conn:
        conn.execute("UPDATE metrics SET metrics = json_set(metrics, '$.__proto__', step)")
    conn.close()
    out = tmp_path / "site"
    export_project("proto", out, trackio_dir)
    page.goto(static_server(out))
    _wait_charts(page, "c.length === 3")
    got = charts(page)
    assert set(got) == {("m", "__proto__"), ("m", "loss"), ("m", "constructor")}
    assert got[("m", "__proto__")]["points"] == {"__proto__": 10} and got[("m", "__proto__")]["last"] == {"__proto__": 9}
    page.click("#runs li:nth-child(1) .run-name")
    page.wait_for_selector("#config:not([hidden])")
    rows = page.eval_on_selector_all("#config-table tr", "els => els.map(e => e.textContent)")
    assert {"lr0.1", 'opt{"__proto__":"cfg"}'} <= set(rows), rows
    assert page.trackio_events == []


def test_many_metrics_draw_lazily_and_smoothing_is_debounced(trackio_dir, tmp_path, static_server, page):
    """200 metrics: only charts near the viewport are drawn (the rest when scrolled to), and a burst
    of slider moves redraws a few times, not once per event."""
    import trackio

    for name in ("a", "b"):
        trackio.init(project="many", name=name, auto_log_cpu=False)
        for s in range(300):
            trackio.log({f"m{i:03d}": s * (i + 1) for i in range(200)})
        trackio.finish()
    out = tmp_path / "site"
    export_project("many", out, trackio_dir)
    page.goto(static_server(out))
    _wait_charts(page, "c.length === 200")
    page.wait_for_function("() => document.querySelectorAll('.chart .uplot').length > 0", timeout=WAIT)
    drawn = page.evaluate("document.querySelectorAll('.chart .uplot').length")
    assert 0 < drawn < 60, drawn
    assert charts(page)[("m", "m199")]["points"] == {"a": 300, "b": 300}  # known before it is drawn
    page.evaluate("document.querySelector('.chart[data-metric=\"m199\"]').scrollIntoView()")
    page.wait_for_function("() => document.querySelector('.chart[data-metric=\"m199\"] .uplot') !== null", timeout=WAIT)
    before = charts(page)[("m", "m000")]["version"]
    page.evaluate("""() => { const s = document.getElementById('smoothing');
        for (let i = 1; i <= 30; i++) { s.value = String(i / 100); s.dispatchEvent(new Event('input')); } }""")
    page.wait_for_function("() => window.trackioCharts()[0].version > %d" % before, timeout=WAIT)
    page.wait_for_timeout(500)
    after = charts(page)[("m", "m000")]["version"]
    assert after - before <= 3, (before, after)
    assert page.evaluate("document.getElementById('smoothing-value').textContent") == "0.30"
    assert page.trackio_events == []
