/* trackio static dashboard.
 *
 * Reads the data files of a trackio export (data/project.js, data/runs/<key>/run.js and the view
 * chunks they list; format described in trackio/store/spacefmt.py) by adding <script> tags, so it
 * works from a static host and from file://. Polls data/project.js and fetches only what changed.
 * Charts are uPlot (vendored). Every name, config value and alert text is inserted as text
 * (textContent), never as HTML.
 */
(function () {
  "use strict";

  var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#e6550d", "#31a354", "#843c39", "#7b4173", "#3182bd", "#fd8d3c",
    "#74c476", "#9e9ac8", "#636363"];
  var LEVELS = { info: 1, warn: 1, error: 1 };
  var STATUSES = { running: 1, finished: 1, crashed: 1, unknown: 1 };
  var local = location.protocol === "file:" || /^(127\.|localhost$|\[::1\]$)/.test(location.hostname);
  var POLL = local ? 2000 : 5000;
  var POLL_MAX = 60000;
  var FEW_POINTS = 64;  // series with at most this many points are drawn with point markers
  var STALE_MS = 10 * 60 * 1000;  // a "running" run whose machine has not synced for this long shows "stalled"
  var STATUS_EVERY = 30 * 1000;  // ms between re-evaluations of "stalled"
  var RENDER_GAP = 100;  // ms: at most one render per this while a control is being moved

  var state = {
    project: null, order: [], runs: new Map(), selected: null,
    smoothing: 0, xaxis: "step", metricFilter: "", runFilter: "",
    charts: new Map(), lastPoll: null, failures: 0, version: 0,
  };

  var D = window.TrackioData;

  async function poll() {
    var project;
    try {
      project = await D.load("data/project.js", "project", String(Date.now()));
    } catch (e) {
      state.failures += 1;
      renderStatus(e);
      return;
    }
    var changed = !state.project;
    state.project = project;
    var order = [];
    var runs = Array.isArray(project.runs) ? project.runs : [];
    var jobs = [];
    runs.forEach(function (s, i) {
      if (!s || !D.safeKey(s.key)) return;
      order.push(s.id);
      var run = state.runs.get(s.id);
      if (!run) {
        run = { id: s.id, color: PALETTE[i % PALETTE.length], visible: true, chunks: new Map(), manifest: null, rev: null };
        state.runs.set(s.id, run);
        changed = true;
      }
      if (!run.summary || JSON.stringify(run.summary) !== JSON.stringify(s)) changed = true;
      run.summary = s;
      if (run.rev !== s.rev) {
        jobs.push(D.loadRun(run, s).then(function () { changed = true; }, function () { /* retried next poll */ }));
      }
    });
    await Promise.all(jobs);
    state.runs.forEach(function (run, id) { if (order.indexOf(id) < 0) { state.runs.delete(id); changed = true; } });
    state.order = order;
    state.failures = 0;
    state.lastPoll = new Date();
    if (changed) render();
    else renderStatus();
  }

  async function loop() {
    await poll();
    var wait = state.failures ? Math.min(POLL_MAX, POLL * Math.pow(2, state.failures)) : POLL;
    setTimeout(loop, wait);
  }

  function metricNames(stream) {
    var names = new Set();
    state.order.forEach(function (id) {
      var run = state.runs.get(id);
      if (!run || !run.visible) return;
      D.chunksOf(run, stream).forEach(function (c) { Object.keys(c.v || {}).forEach(function (n) { names.add(n); }); });
    });
    return Array.from(names).sort();
  }

  function alpha(hex, a) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16 & 255) + "," + (n >> 8 & 255) + "," + (n & 255) + "," + a + ")";
  }

  // ---- charts ------------------------------------------------------------------------------
  function fmtDuration(s) {
    if (s === null || s === undefined) return "";
    var sign = s < 0 ? "-" : "";
    s = Math.abs(s);
    if (s < 60) return sign + (Math.round(s * 10) / 10) + "s";
    var h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60), sec = Math.floor(s % 60);
    return sign + (h ? h + "h" + String(m).padStart(2, "0") + "m" : m + "m" + String(sec).padStart(2, "0") + "s");
  }

  // Compact tick labels: 1.2k, 3.4M, 5e-5 (axis space is narrow; the legend shows full values).
  function fmtTick(v) {
    if (v === null || v === undefined) return "";
    var a = Math.abs(v);
    if (a === 0) return "0";
    if (a >= 1e15 || a < 1e-3) return v.toExponential(1).replace("e+", "e");
    var units = [[1e12, 1e12, "T"], [1e9, 1e9, "G"], [1e6, 1e6, "M"], [1e4, 1e3, "k"]];  // [from, divisor, suffix]
    for (var i = 0; i < units.length; i++) {
      if (a >= units[i][0]) return String(+(v / units[i][1]).toPrecision(3)) + units[i][2];
    }
    return String(+v.toPrecision(4));
  }

  function chartFor(stream, name) {
    var axis = state.xaxis === "step" && stream === "s" ? "rel" : state.xaxis;
    var tables = [], series = [{ label: axis === "step" ? "step" : "time" }], bands = [], runs = [];
    var col = 1;
    state.order.forEach(function (id) {
      var run = state.runs.get(id);
      if (!run || !run.visible || !run.summary) return;
      var s = D.seriesOf(run, stream, name, axis);
      if (!s.xs.length) return;
      var label = run.summary.name;
      var main = D.smooth(s.ys, state.smoothing);
      var table = [s.xs, main];
      var count = s.ys.filter(function (y) { return y !== null; }).length;
      var line = { label: label, stroke: run.color, width: 1.5, spanGaps: true };
      // uPlot hides point markers when the shared x axis is dense; a series of one point has no line
      // at all, so series with few points always show theirs.
      if (count <= FEW_POINTS) line.points = { show: true, size: 7, fill: run.color, stroke: run.color };
      series.push(line);
      runs.push(label);
      var mainCol = col;
      col += 1;
      if (s.band) {
        table.push(s.hi, s.lo);
        series.push({ label: label + " max", class: "aux", stroke: alpha(run.color, 0.0), width: 0, spanGaps: true, points: { show: false } });
        series.push({ label: label + " min", class: "aux", stroke: alpha(run.color, 0.0), width: 0, spanGaps: true, points: { show: false } });
        bands.push({ series: [col, col + 1], fill: alpha(run.color, 0.15) });
        col += 2;
      } else if (state.smoothing) {
        table.push(s.ys);
        series.push({ label: label + " raw", class: "aux", stroke: alpha(run.color, 0.3), width: 1, spanGaps: true, points: { show: false } });
        col += 1;
      }
      tables.push(table);
      void mainCol;
    });
    if (!tables.length) return null;
    var data = tables.length === 1 ? tables[0] : uPlot.join(tables);
    return { axis: axis, data: data, series: series, bands: bands, runs: runs,
             sig: axis + "|" + series.map(function (s) { return s.label + "/" + (s.stroke || ""); }).join("|") };
  }

  function chartWidth(container) {
    var w = container.clientWidth || 800;
    var cols = w >= 900 ? 2 : 1;
    return Math.max(280, Math.floor((w - (cols - 1) * 16) / cols) - 12);
  }

  // Charts are drawn lazily: each metric gets a placeholder at once, and its uPlot chart is made or
  // updated only while the placeholder is near the viewport (IntersectionObserver); a chart whose data
  // or options changed while off screen is marked dirty and redrawn when it comes back.
  var byEl = new WeakMap();
  var observer = "IntersectionObserver" in window ? new IntersectionObserver(function (items) {
    items.forEach(function (it) {
      var entry = byEl.get(it.target);
      if (!entry) return;
      entry.visible = it.isIntersecting;
      if (entry.visible && entry.dirty) draw(entry);
    });
  }, { rootMargin: "600px 0px" }) : null;

  function draw(entry) {
    entry.dirty = false;
    var spec = chartFor(entry.stream, entry.name);
    entry.el.hidden = !spec;
    if (!spec) {
      if (entry.u) { entry.u.destroy(); entry.u = null; }
      return;
    }
    if (entry.u && entry.sig === spec.sig) {
      entry.u.setData(spec.data);
    } else {
      if (entry.u) entry.u.destroy();
      var opts = {
        title: entry.name, width: chartWidth(entry.el.parentNode || document.body), height: 240,
        series: spec.series, bands: spec.bands,
        scales: { x: { time: spec.axis === "wall" } },
        cursor: { sync: { key: "trackio" } },
        legend: { live: true },
        axes: [spec.axis === "rel" ? { values: function (u, v) { return v.map(fmtDuration); } }
               : spec.axis === "step" ? { values: function (u, v) { return v.map(fmtTick); } } : {},
               { size: 56, values: function (u, v) { return v.map(fmtTick); } }],
      };
      entry.u = new uPlot(opts, spec.data, entry.el);
      entry.sig = spec.sig;
    }
    entry.axis = spec.axis;
    entry.runs = spec.runs;
    if (!window.trackioTiming.firstChart) window.trackioTiming.firstChart = performance.now();
  }

  function renderCharts(stream, container) {
    var names = metricNames(stream);
    var filter = state.metricFilter.toLowerCase();
    if (filter) names = names.filter(function (n) { return n.toLowerCase().indexOf(filter) >= 0; });
    var wanted = new Set();
    var width = chartWidth(container) + 10 + "px";  // a placeholder takes a chart's room (padding, border)
    names.forEach(function (name, i) {
      var key = stream + ":" + name;
      wanted.add(key);
      var entry = state.charts.get(key);
      if (!entry) {
        var el = document.createElement("div");
        el.className = "chart";
        el.dataset.metric = name;
        el.dataset.stream = stream;
        el.style.minWidth = width;
        entry = { el: el, stream: stream, name: name, u: null, sig: null, dirty: true, visible: !observer,
                  axis: null, runs: [] };
        state.charts.set(key, entry);
        byEl.set(el, entry);
        if (observer) observer.observe(el);
      }
      entry.dirty = true;
      if (container.children[i] !== entry.el) container.insertBefore(entry.el, container.children[i] || null);
    });
    state.charts.forEach(function (entry, key) {
      if (entry.stream !== stream || wanted.has(key)) return;
      if (observer) observer.unobserve(entry.el);
      if (entry.u) entry.u.destroy();
      entry.el.remove();
      state.charts.delete(key);
    });
    state.charts.forEach(function (entry) { if (entry.stream === stream && entry.visible) draw(entry); });
    return wanted.size;
  }

  // ---- sidebar, alerts, status -----------------------------------------------------------
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  // A run's status as shown: "stalled" for a running run whose machine has been quiet too long.
  function shownStatus(s) {
    var status = D.own(STATUSES, s.status) ? s.status : "unknown";
    var beat = s.heartbeat_at ? Date.parse(s.heartbeat_at) : NaN;
    return status === "running" && !isNaN(beat) && Date.now() - beat > STALE_MS ? "stalled" : status;
  }

  function statusSig() {
    return state.order.map(function (id) {
      var run = state.runs.get(id);
      return run && run.summary ? shownStatus(run.summary) : "";
    }).join("|");
  }

  function renderRuns() {
    state.statusSig = statusSig();
    var list = document.getElementById("runs");
    list.replaceChildren();
    var filter = state.runFilter.toLowerCase();
    state.order.forEach(function (id) {
      var run = state.runs.get(id);
      if (!run || !run.summary) return;
      var s = run.summary;
      if (filter && String(s.name).toLowerCase().indexOf(filter) < 0) return;
      var li = el("li", "run" + (state.selected === id ? " selected" : ""));
      li.dataset.runId = id;
      var box = el("input");
      box.type = "checkbox";
      box.checked = run.visible;
      box.setAttribute("aria-label", "show run");
      box.addEventListener("change", function () { run.visible = box.checked; render(); });
      var swatch = el("span", "swatch");
      swatch.style.background = run.color;
      var name = el("button", "run-name", s.name);
      name.type = "button";
      name.title = "Show config";
      name.addEventListener("click", function () { state.selected = state.selected === id ? null : id; renderRuns(); renderConfig(); });
      var status = D.own(STATUSES, s.status) ? s.status : "unknown";
      var shown = shownStatus(s);
      var badge = el("span", "badge st-" + (shown === "stalled" ? "crashed" : status), shown);
      if (shown === "stalled") badge.title = "No news from the training machine since " + s.heartbeat_at;
      var meta = el("span", "meta muted", s.last_step === null || s.last_step === undefined ? "" : "step " + s.last_step);
      li.append(box, swatch, name, badge, meta);
      list.appendChild(li);
    });
  }

  function renderConfig() {
    var panel = document.getElementById("config");
    var run = state.selected && state.runs.get(state.selected);
    if (!run || !run.manifest) { panel.hidden = true; return; }
    panel.hidden = false;
    document.getElementById("config-title").textContent = run.summary.name;
    var body = document.querySelector("#config-table tbody");
    body.replaceChildren();
    var cfg = run.manifest.config || {};
    var keys = Object.keys(cfg);
    if (!keys.length) { var tr0 = el("tr"); tr0.append(el("td", "muted", "(no config)")); body.append(tr0); }
    keys.forEach(function (k) {
      var v = cfg[k];
      var tr = el("tr");
      tr.append(el("th", null, k), el("td", null, typeof v === "string" ? v : JSON.stringify(v)));
      body.append(tr);
    });
  }

  function renderAlerts() {
    var rows = [];
    state.order.forEach(function (id) {
      var run = state.runs.get(id);
      if (!run || !run.manifest || !run.visible) return;
      (run.manifest.alerts || []).forEach(function (a) { rows.push({ run: run.summary.name, a: a }); });
    });
    rows.sort(function (x, y) { return String(y.a.timestamp).localeCompare(String(x.a.timestamp)); });
    var table = document.getElementById("alerts");
    var body = table.querySelector("tbody");
    body.replaceChildren();
    rows.slice(0, 500).forEach(function (r) {
      var a = r.a;
      var level = D.own(LEVELS, a.level) ? a.level : "warn";
      var tr = el("tr", "alert lvl-" + level);
      tr.append(el("td", "muted", a.timestamp), el("td", null, r.run), el("td", null, level.toUpperCase()),
        el("td", null, a.title), el("td", null, a.text), el("td", null, a.step));
      body.append(tr);
    });
    table.hidden = rows.length === 0;
    document.getElementById("no-alerts").hidden = rows.length !== 0;
  }

  function renderStatus(err) {
    var status = document.getElementById("status");
    if (err) {
      status.textContent = "Cannot read data (" + err.message + "); retrying.";
      status.className = "warn";
      return;
    }
    var p = state.project || {};
    var parts = [state.order.length + " run(s)"];
    if (p.updated_at) parts.push("last data " + p.updated_at.replace("T", " ").slice(0, 19) + " UTC");
    if (state.lastPoll) parts.push("checked " + state.lastPoll.toLocaleTimeString());
    status.textContent = parts.join(" · ");
    status.className = "muted";
  }

  function render() {
    state.version += 1;
    var p = state.project || {};
    document.getElementById("project").textContent = p.project || "";
    document.title = (p.project ? p.project + " · " : "") + "trackio";
    renderRuns();
    renderConfig();
    var n = renderCharts("m", document.getElementById("charts"));
    var ns = renderCharts("s", document.getElementById("system-charts"));
    document.getElementById("empty").hidden = n > 0;
    document.getElementById("system-heading").hidden = ns === 0;
    renderAlerts();
    renderStatus();
  }

  // ---- controls ----------------------------------------------------------------------------
  // A burst of input events (a dragged slider, typing) renders once per RENDER_GAP ms at most, plus
  // once after the last event.
  var pending = null;
  function renderSoon() {
    if (pending === null) pending = setTimeout(function () { pending = null; render(); }, RENDER_GAP);
  }

  function bind() {
    var sm = document.getElementById("smoothing");
    sm.addEventListener("input", function () {
      state.smoothing = Number(sm.value);
      document.getElementById("smoothing-value").textContent = state.smoothing.toFixed(2);
      renderSoon();
    });
    document.getElementById("xaxis").addEventListener("change", function (e) { state.xaxis = e.target.value; render(); });
    document.getElementById("metric-filter").addEventListener("input", function (e) { state.metricFilter = e.target.value; renderSoon(); });
    document.getElementById("run-filter").addEventListener("input", function (e) { state.runFilter = e.target.value; renderRuns(); });
    document.getElementById("runs-all").addEventListener("click", function () { state.runs.forEach(function (r) { r.visible = true; }); render(); });
    document.getElementById("runs-none").addEventListener("click", function () { state.runs.forEach(function (r) { r.visible = false; }); render(); });
    var timer = null;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        state.charts.forEach(function (c) {
          var w = chartWidth(c.el.parentNode || document.body);
          c.el.style.minWidth = w + 10 + "px";
          if (c.u) c.u.setSize({ width: w, height: 240 });
        });
      }, 150);
    });
  }

  // What the charts show (or will show once scrolled to), for tests and for debugging from the console.
  window.trackioCharts = function () {
    var out = [];
    state.charts.forEach(function (c) {
      var spec = c.u && !c.dirty ? { data: c.u.data, series: c.u.series, runs: c.runs, axis: c.axis }
                                 : chartFor(c.stream, c.name);
      if (!spec) return;
      var drawn = Object.create(null), last = Object.create(null);
      spec.series.forEach(function (s, i) {
        if (i === 0 || s.class === "aux") return;
        var ys = spec.data[i].filter(function (y) { return y !== null && y !== undefined; });
        drawn[s.label] = ys.length;
        last[s.label] = ys.length ? ys[ys.length - 1] : null;
      });
      var xs = spec.data[0];
      out.push({ stream: c.stream, metric: c.name, runs: spec.runs.slice(), points: drawn, last: last,
                 x: [xs[0], xs[xs.length - 1]], axis: spec.axis, drawn: !!c.u, version: state.version });
    });
    return out;
  };

  window.trackioTiming = { start: performance.now(), firstChart: null };  // ms since navigation start
  bind();
  loop();
  // "stalled" depends on the clock, not only on the data: look again now and then.
  setInterval(function () { if (statusSig() !== state.statusSig) renderRuns(); }, STATUS_EVERY);
})();
