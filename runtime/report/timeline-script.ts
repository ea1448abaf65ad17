/**
 * The page's one script: draws the timeline from the embedded JSON
 * (model.ts's TimelineData) on a canvas, and shows a bar's details on
 * hover. It sets text only through `textContent`, never markup, so no
 * value it shows can become HTML. A canvas because 100,000 SVG elements
 * make a browser crawl; bars narrower than a pixel that share a pixel,
 * a row and a colour are drawn once (each still counts in `data-bars`).
 * Wheel zooms around the pointer, drag pans, double-click resets.
 * `window.wfcTimeline.point(i)` gives bar i's centre on screen (for tests).
 *
 * Plain ES2020, no template literals (this file holds it in one).
 */
export const TIMELINE_SCRIPT = String.raw`(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("wfc-data").textContent);
  var canvas = document.getElementById("timeline");
  var tip = document.getElementById("tip");
  var ctx = canvas.getContext("2d");
  var n = data.s.length;
  var rows = Math.max(1, data.rows);
  var ROW = Math.max(3, Math.min(24, Math.floor(520 / rows)));
  var AXIS = 24;
  var FAILED = "#d7191c";
  var v0 = 0, v1 = data.span;
  var byRow = [];
  for (var r = 0; r < rows; r++) byRow.push([]);
  for (var i = 0; i < n; i++) byRow[data.r[i]].push(i);
  var critical = new Set(data.crit);

  function width() { return canvas.clientWidth || 800; }
  function height() { return AXIS + rows * ROW + 4; }
  function xOf(t) { return ((t - v0) / (v1 - v0)) * width(); }
  function tOf(x) { return v0 + (x / width()) * (v1 - v0); }

  function resize() {
    var dpr = window.devicePixelRatio || 1;
    canvas.style.height = height() + "px";
    canvas.width = Math.round(width() * dpr);
    canvas.height = Math.round(height() * dpr);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    draw();
  }

  function label(ms) {
    var a = Math.abs(ms);
    if (a < 1000) return Math.round(ms) + " ms";
    if (a < 60000) return (ms / 1000).toFixed(a < 10000 ? 1 : 0) + " s";
    if (a < 3600000) return Math.floor(ms / 60000) + " min " + String(Math.round((ms % 60000) / 1000)).padStart(2, "0") + " s";
    return Math.floor(ms / 3600000) + " h " + String(Math.round((ms % 3600000) / 60000)).padStart(2, "0") + " min";
  }

  function axis(w) {
    var span = v1 - v0;
    var raw = span / Math.max(2, Math.floor(w / 110));
    var p = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 5, 10].map(function (k) { return k * p; }).find(function (s) { return s >= raw; }) || 10 * p;
    ctx.fillStyle = "#555";
    ctx.strokeStyle = "#e4e4e4";
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "middle";
    for (var t = Math.ceil(v0 / step) * step; t <= v1; t += step) {
      var x = Math.round(xOf(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, AXIS - 4);
      ctx.lineTo(x, height());
      ctx.stroke();
      ctx.fillText(label(t), x + 3, AXIS / 2);
    }
  }

  function box(i) {
    var a = xOf(data.a[i]), b = xOf(data.b[i]);
    return { x: a, y: AXIS + data.r[i] * ROW + 1, w: Math.max(1, b - a), h: Math.max(1, ROW - 2) };
  }

  function draw() {
    var w = width();
    ctx.clearRect(0, 0, w, height());
    axis(w);
    var drawn = 0, scale = w / (v1 - v0), h = Math.max(1, ROW - 2);
    for (var r = 0; r < rows; r++) {
      var list = byRow[r], lastPx = -1, lastColour = -1;
      // A row's bars never overlap, so their ends rise with their starts: skip to the first in view.
      var lo = 0, hi = list.length;
      while (lo < hi) {
        var mid = (lo + hi) >> 1;
        if (data.b[list[mid]] < v0) lo = mid + 1; else hi = mid;
      }
      var y = AXIS + r * ROW + 1;
      for (var k = lo; k < list.length; k++) {
        var i = list[k];
        if (data.a[i] > v1) break;
        var x = (data.a[i] - v0) * scale, bw = Math.max(1, (data.b[i] - data.a[i]) * scale);
        drawn++;
        var px = Math.floor(x), colour = data.st[i] === 1 ? -1 : data.s[i];
        // A sub-pixel bar on the pixel the row's last bar of its colour already filled: drawn by it.
        if (bw <= 1 && px === lastPx && colour === lastColour) continue;
        lastPx = px;
        lastColour = colour;
        var fw = bw > 3 ? bw - 1 : bw;
        ctx.fillStyle = data.colours[data.s[i]];
        ctx.fillRect(x, y, fw, h);
        if (data.st[i] === 1) {
          ctx.fillStyle = FAILED;
          ctx.fillRect(x, y + h * 0.55, fw, h * 0.45);
        } else if (data.st[i] === 2) {
          ctx.fillStyle = "rgba(255,255,255,0.6)";
          ctx.fillRect(x, y, bw, h);
        }
      }
    }
    // The critical path on top: each bar outlined, each step joined to the next.
    ctx.strokeStyle = "#000";
    ctx.lineWidth = 2;
    ctx.beginPath();
    for (var c = 0; c < data.crit.length; c++) {
      var cb = box(data.crit[c]);
      ctx.strokeRect(cb.x, cb.y, cb.w, cb.h);
      if (c > 0) {
        var pb = box(data.crit[c - 1]);
        ctx.moveTo(pb.x + pb.w, pb.y + pb.h / 2);
        ctx.lineTo(cb.x, cb.y + cb.h / 2);
      }
    }
    ctx.stroke();
    ctx.lineWidth = 1;
    canvas.setAttribute("data-bars", String(drawn));
  }

  function barAt(x, y) {
    var r = Math.floor((y - AXIS) / ROW);
    if (r < 0 || r >= rows) return -1;
    var list = byRow[r], t = tOf(x);
    var lo = 0, hi = list.length - 1, found = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (data.a[list[mid]] <= t) { found = mid; lo = mid + 1; } else hi = mid - 1;
    }
    // The bar the time falls in, when one does; else the nearest within a few pixels.
    if (found >= 0 && t <= data.b[list[found]]) return list[found];
    var best = -1, bestDistance = 4;
    for (var k = Math.max(0, found - 1); k <= Math.min(list.length - 1, found + 1); k++) {
      if (k < 0) continue;
      var b = box(list[k]);
      var d = x < b.x ? b.x - x : x > b.x + b.w ? x - b.x - b.w : 0;
      if (d < bestDistance) { best = list[k]; bestDistance = d; }
    }
    return best;
  }

  function seconds(ms) { return ms === null ? "?" : label(ms); }
  function mib(kb) { return kb < 1024 ? kb + " KiB" : (kb / 1024).toFixed(1) + " MiB"; }

  function describe(i) {
    var lines = [];
    lines.push("stage: " + data.stages[data.s[i]]);
    lines.push("element: " + data.e[i]);
    var status = ["done", "failed", "touched"][data.st[i]];
    if (data.x[i] !== null) status += " (exit " + data.x[i] + ")";
    if (data.at[i] !== null) status += ", attempt " + data.at[i];
    lines.push("status: " + status);
    if (data.j[i] > 1) lines.push("job: +" + seconds(data.ja[i]) + " to +" + seconds(data.jb[i]) + ", " + data.j[i] + " records (drawn side by side)");
    else lines.push("start: +" + seconds(data.a[i]) + "   end: +" + seconds(data.b[i]));
    var wall = data.w[i] !== null ? data.w[i] : data.j[i] > 1 ? null : data.b[i] - data.a[i];
    lines.push("wall: " + (wall === null ? "not measured" : seconds(wall)));
    if (data.u[i] !== null && wall !== null) {
      lines.push("CPU: " + seconds(data.u[i]) + (wall > 0 ? " (" + Math.round((100 * data.u[i]) / wall) + "% of one core; " + data.c[i] + " requested)" : ""));
    }
    if (data.m[i] !== null) lines.push("peak RSS: " + mib(data.m[i]));
    if (critical.has(i)) lines.push("on the critical path");
    return lines.join("\n");
  }

  canvas.addEventListener("mousemove", function (ev) {
    var rect = canvas.getBoundingClientRect();
    if (drag !== null) {
      var dt = ((ev.clientX - drag.x) / width()) * (drag.v1 - drag.v0);
      v0 = drag.v0 - dt;
      v1 = drag.v1 - dt;
      draw();
      return;
    }
    var i = barAt(ev.clientX - rect.left, ev.clientY - rect.top);
    if (i < 0) { tip.hidden = true; return; }
    tip.textContent = describe(i);
    tip.hidden = false;
    var left = ev.clientX + 14 + window.scrollX, top = ev.clientY + 14 + window.scrollY;
    if (ev.clientX + 14 + tip.offsetWidth > window.innerWidth) left = ev.clientX + window.scrollX - tip.offsetWidth - 14;
    tip.style.left = left + "px";
    tip.style.top = top + "px";
  });
  canvas.addEventListener("mouseleave", function () { tip.hidden = true; drag = null; });
  var drag = null;
  canvas.addEventListener("mousedown", function (ev) { drag = { x: ev.clientX, v0: v0, v1: v1 }; });
  window.addEventListener("mouseup", function () { drag = null; });
  canvas.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var rect = canvas.getBoundingClientRect();
    var t = tOf(ev.clientX - rect.left);
    var f = ev.deltaY < 0 ? 0.8 : 1.25;
    var span = Math.max(1, Math.min(data.span, (v1 - v0) * f));
    v0 = t - ((t - v0) / (v1 - v0)) * span;
    v1 = v0 + span;
    draw();
  }, { passive: false });
  canvas.addEventListener("dblclick", function () { v0 = 0; v1 = data.span; draw(); });
  window.addEventListener("resize", resize);

  window.wfcTimeline = {
    bars: n,
    point: function (i) {
      var rect = canvas.getBoundingClientRect(), b = box(i);
      return { x: rect.left + b.x + Math.min(b.w / 2, 2), y: rect.top + b.y + b.h / 2 };
    },
    critical: data.crit.slice()
  };
  resize();
})();
`;
