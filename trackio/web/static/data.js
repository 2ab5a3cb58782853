/* trackio static dashboard: reading the data files and turning chunks into series.
 *
 * Data files (format: trackio/store/spacefmt.py) are JSON text in a string literal wrapped in a call,
 * __trackio("<key>", "<JSON>"); loading them with <script> tags works from a static host and from
 * file://. The text goes through JSON.parse, which makes a key named "__proto__" an ordinary property
 * (an object literal would set the prototype instead); lookups by a name from the data use own().
 * Exposes window.TrackioData for app.js.
 */
(function () {
  "use strict";

  // ---- loading data files ------------------------------------------------------------------
  var waiting = new Map();
  window.__trackio = function (key, data) {
    var w = waiting.get(key);
    if (!w) return;
    waiting.delete(key);
    try { w.resolve(typeof data === "string" ? JSON.parse(data) : data); }
    catch (e) { w.reject(e); }
  };

  // obj[name] when obj has its own property name (never one inherited from Object.prototype).
  function own(obj, name) {
    return obj && Object.prototype.hasOwnProperty.call(obj, name) ? obj[name] : undefined;
  }

  function load(path, key, rev) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      waiting.set(key, { resolve: resolve, reject: reject });
      s.src = path + "?v=" + encodeURIComponent(rev);
      s.async = true;
      s.onload = function () {
        s.remove();
        if (waiting.has(key)) { waiting.delete(key); reject(new Error("no data in " + path)); }
      };
      s.onerror = function () { s.remove(); waiting.delete(key); reject(new Error("could not load " + path)); };
      document.head.appendChild(s);
    });
  }

  function safeKey(k) { return typeof k === "string" && /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(k); }

  async function loadRun(run, summary) {
    var key = summary.key;
    var m = await load("data/runs/" + key + "/run.js", "runs/" + key, summary.rev);
    var jobs = [];
    var keep = new Set();
    Object.keys(m.streams || {}).forEach(function (stream) {
      if (stream !== "m" && stream !== "s") return;
      var info = m.streams[stream];
      (info.chunks || []).forEach(function (name) {
        if (!/^[ms]\d{1,2}-\d{4}(-open)?(-p\d{1,3})?\.js$/.test(name)) return;
        keep.add(name);
        var open = /-open(-p\d+)?\.js$/.test(name);
        var rev = open ? (info.open_rev || String(Date.now())) : "full";
        var have = run.chunks.get(name);
        if (have && have.rev === rev) return;
        var base = name.slice(0, -3);
        jobs.push(load("data/runs/" + key + "/" + name, "runs/" + key + "/" + base, rev).then(function (c) {
          run.chunks.set(name, { rev: rev, data: c });
        }));
      });
    });
    await Promise.all(jobs);
    Array.from(run.chunks.keys()).forEach(function (name) { if (!keep.has(name)) run.chunks.delete(name); });
    run.manifest = m;
    run.rev = summary.rev;
  }

  // ---- series ------------------------------------------------------------------------------
  function chunksOf(run, stream) {
    var out = [];
    run.chunks.forEach(function (c) { if (c.data.stream === stream) out.push(c.data); });
    out.sort(function (a, b) { return a.b0 - b.b0; });
    return out;
  }

  function num(v) { return typeof v === "number" && isFinite(v) ? v : null; }

  // One run's points for one metric: x by the chosen axis, last value, bucket min and max.
  function seriesOf(run, stream, name, axis) {
    var xs = [], ys = [], lo = [], hi = [], band = false;
    var t0 = (run.manifest && typeof run.manifest.t0 === "number") ? run.manifest.t0 : 0;
    chunksOf(run, stream).forEach(function (c) {
      var v = own(c.v, name);
      if (!v) return;
      var l = own(c.lo, name), h = own(c.hi, name);
      var vs = own(c.vs, name), vt = own(c.vt, name);
      if (l) band = true;
      for (var i = 0; i < v.length; i++) {
        if (v[i] === null || v[i] === undefined) continue;
        var x;
        if (axis === "step") x = vs ? vs[i] : (c.s ? c.s[i] : null);
        else {
          x = vt ? vt[i] : c.t[i];
          if (x !== null && axis === "wall") x = t0 + x;
        }
        if (typeof x !== "number") continue;
        var y = num(v[i]);
        xs.push(x); ys.push(y);
        lo.push(l ? num(l[i]) : y); hi.push(h ? num(h[i]) : y);
      }
    });
    for (var k = 1; k < xs.length; k++) {
      if (xs[k] < xs[k - 1]) { return apart(sortSeries(xs, ys, lo, hi, band), axis); }
    }
    return apart({ xs: xs, ys: ys, lo: lo, hi: hi, band: band }, axis);
  }

  // On a time axis, rows logged within the same microsecond share an x; overlaid runs are joined on
  // x (uPlot.join), which keeps one point per x and series. Move each repeat 1 µs past the point
  // before it, so every point stays (a shift no chart can show).
  function apart(s, axis) {
    if (axis === "step") return s;
    var xs = s.xs;
    for (var k = 1; k < xs.length; k++) {
      if (xs[k] <= xs[k - 1]) xs[k] = xs[k - 1] + 1e-6;
    }
    return s;
  }

  function sortSeries(xs, ys, lo, hi, band) {
    var idx = xs.map(function (_, i) { return i; });
    idx.sort(function (a, b) { return xs[a] - xs[b] || a - b; });
    return {
      xs: idx.map(function (i) { return xs[i]; }), ys: idx.map(function (i) { return ys[i]; }),
      lo: idx.map(function (i) { return lo[i]; }), hi: idx.map(function (i) { return hi[i]; }), band: band,
    };
  }

  // Exponential moving average with TensorBoard's debiasing (scalars dashboard, "smoothing"):
  // s_i = w*s_{i-1} + (1-w)*y_i over finite points, shown as s_i / (1 - w^n). Gaps pass through.
  function smooth(ys, w) {
    if (!w) return ys;
    var out = new Array(ys.length), acc = 0, n = 0;
    for (var i = 0; i < ys.length; i++) {
      var y = ys[i];
      if (y === null) { out[i] = null; continue; }
      acc = acc * w + (1 - w) * y;
      n += 1;
      out[i] = acc / (1 - Math.pow(w, n));
    }
    return out;
  }

  window.TrackioData = { load: load, safeKey: safeKey, loadRun: loadRun, chunksOf: chunksOf,
                         seriesOf: seriesOf, smooth: smooth, own: own };
})();
