"""The page's inline style sheet and script (hashed into its Content-Security-Policy).

Kept as strings, not package data files, so the page builds from any install of tokfrag.
The script sorts a table when a column header is clicked (missing values stay last) and
hides every element (table rows and cells, plot points and lines, verdict rows) that carries a
``data-K`` attribute whose value is unticked in the filter ``K`` (``input[data-filter=K]``:
device, machine, framework, backbone; a value the filter does not list stays), and every element
with a ``data-pipeline`` whose pipeline, backbone or framework does not contain the words of the
search box; rows of class ``unmeasured``
(nothing measured) stay hidden until the page's one ``#show-unmeasured`` box is ticked. Each
section's ``.count`` says how many of its board rows are shown. The filters, the search and the
last sort are kept in the address's fragment (``#machine=vm&q=video&sort=mnist-board.5.d``), so a
view can be shared as a link. Elements with ``data-tip`` (or an SVG element with a ``<title>``,
on focus) show their description in ``#tip`` on hover and keyboard focus.
"""

CSS = """
:root { --fg: #1f2328; --mute: #6e7781; --line: #d8dee4; --head: #f6f8fa; --accent: #0969da;
        --token: #d9480f; --fragment: #1c7ed6; --good: #1a7f37; --bad: #cf222e; --warn: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); }
header { padding: 14px 20px 10px; border-bottom: 1px solid var(--line); background: var(--head); }
h1 { margin: 0; font-size: 20px; }
h1 small, .note { color: var(--mute); font-weight: normal; font-size: 13px; }
h2 { margin: 22px 0 6px; font-size: 16px; }
h3 { margin: 12px 0 4px; font-size: 13px; }
main { padding: 0 20px 20px; }
a { color: inherit; text-decoration: none; }
a:hover { color: var(--accent); text-decoration: underline; }
.filters { display: flex; flex-wrap: wrap; gap: 6px 22px; margin-top: 8px; }
.filters fieldset { border: 0; margin: 0; padding: 0; }
.filters legend { float: left; padding: 0 8px 0 0; font-weight: 600; }
.filters label { margin-right: 10px; white-space: nowrap; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 8px; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
thead th { position: sticky; top: 0; background: var(--head); font-weight: 600; }
th button { font: inherit; color: inherit; background: none; border: 0; padding: 0; cursor: pointer; }
th[aria-sort=ascending] button::after { content: " ▲"; font-size: 9px; }
th[aria-sort=descending] button::after { content: " ▼"; font-size: 9px; }
tbody tr:nth-child(even) { background: #fafbfc; }
tbody tr:hover { background: #eef4ff; }
.num { text-align: right; }
.name { display: inline-block; max-width: 16em; overflow: hidden; text-overflow: ellipsis; vertical-align: bottom; }
td.name { display: table-cell; }
.sd { color: var(--mute); font-size: 11px; }
.best { font-weight: 700; }
.st-missing, .st-skipped { color: var(--mute); font-style: italic; }
.st-failed, .par-fail { color: var(--bad); }
.st-not-reached { color: var(--warn); }
.noisy { color: var(--warn); }
.flag { font-size: 10px; border: 1px solid var(--warn); border-radius: 3px; padding: 0 3px; margin-left: 3px; }
.verdicts p { margin: 4px 0; max-width: 1100px; }
.verdict { color: var(--mute); }
.verdict.decided { color: var(--fg); font-weight: 600; }
.par-pass { color: var(--good); }
.rep-token { color: var(--token); font-weight: 600; }
.rep-fragment { color: var(--fragment); font-weight: 600; }
.duo { display: flex; flex-wrap: wrap; gap: 10px 28px; align-items: flex-start; }
figure { margin: 8px 0 0; }
.scale .plots { display: flex; flex-wrap: wrap; gap: 4px 18px; align-items: flex-start; }
.scale .plots figure { margin: 4px 0 0; }
.scale-legend { list-style: none; padding: 0; margin: 10px 0 0; max-width: 300px; }
.scale-legend li { margin: 2px 0; }
.scale-legend svg { vertical-align: middle; }
.scale .headline { font-weight: 600; max-width: 1100px; }
.scale-point:focus { outline: 2px solid var(--accent); }
figcaption { color: var(--mute); font-size: 11px; max-width: 520px; }
svg text { font: 10px system-ui, sans-serif; fill: var(--fg); }
svg .axis { stroke: var(--mute); }
svg .grid { stroke: var(--line); }
svg .tick { fill: var(--mute); }
svg .lead { stroke: var(--mute); stroke-width: 0.5; }
svg .token, svg .token text { fill: var(--token); }
svg .fragment, svg .fragment text { fill: var(--fragment); }
svg .series polyline { fill: none; stroke: var(--mute); stroke-width: 1.5; }
svg .series.token polyline { stroke: var(--token); }
svg .series.fragment polyline { stroke: var(--fragment); }
svg .series.tf polyline { stroke-dasharray: 5 3; }
.filters input[type=search] { font: inherit; padding: 1px 4px; width: 16em; }
#share { color: var(--accent); align-self: center; }
#answer h2 { margin-top: 14px; }
.answers { display: flex; flex-wrap: wrap; gap: 6px 36px; align-items: flex-start; }
.answer-ds h3 { font-size: 14px; margin: 8px 0 4px; }
table.summary { margin-bottom: 2px; }
table.summary th[scope=row] { font-weight: 600; }
table.summary td { text-align: right; }
table.summary td a { display: block; }
.v-a, .v-b, .v-none, .v-na { border-radius: 2px; }
.sum-accuracy .v-a { background: #fcd9c2; }
.sum-accuracy .v-b { background: #c9e3fb; }
.sum-speed .v-a { background: #e6d5fb; }
.sum-speed .v-b { background: #c8eed3; }
td.v-none, .swatch.v-none { background: #ececec; }
td.v-na { color: var(--mute); }
.keys { margin: 2px 0 8px; font-size: 11px; color: var(--mute); }
.swatch { padding: 0 5px; margin-right: 6px; }
.swatch.v-na { border: 1px solid var(--line); }
.sum-accuracy + .keys .v-a { background: #fcd9c2; }
.sum-accuracy + .keys .v-b { background: #c9e3fb; }
.sum-speed + .keys .v-a { background: #e6d5fb; }
.sum-speed + .keys .v-b { background: #c8eed3; }
table.verdicts { margin: 4px 0 8px; }
table.verdicts caption { text-align: left; font-weight: 600; padding: 2px 0; }
table.verdicts th, table.verdicts td { white-space: normal; vertical-align: top; }
td.excluded, td.excluded a { color: #9aa1a8; }
td.excluded .flag { border-color: #9aa1a8; }
.legend { display: block; color: var(--fg); margin-bottom: 2px; }
.legend .key { font-size: 13px; }
.legend .key.token { color: var(--token); }
.legend .key.fragment { color: var(--fragment); }
svg .pt { cursor: pointer; }
svg .pt:focus { outline: none; }
svg .pt:focus circle, svg .pt:focus rect, svg .pt:hover circle, svg .pt:hover rect {
  stroke: var(--fg); stroke-width: 2; }
svg .bar { stroke-width: 1; }
svg .token .bar { stroke: var(--token); }
svg .fragment .bar { stroke: var(--fragment); }
#tip { position: fixed; z-index: 10; max-width: 460px; padding: 4px 7px; background: #1f2328; color: #fff;
       border-radius: 4px; font-size: 12px; pointer-events: none; }
#tip[hidden] { display: none; }
tr.flash { outline: 2px solid var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible { outline: 2px solid var(--accent); }
.off { display: none; }
footer { padding: 10px 20px 16px; color: var(--mute); font-size: 11px; border-top: 1px solid var(--line); }
"""

JS = r"""
(function () {
  "use strict";
  var search = document.getElementById("search"), all = document.getElementById("show-unmeasured");
  var tip = document.getElementById("tip"), sorted = null;
  function key(row, i, numeric) {
    var cell = row.cells[i];
    if (!cell) { return null; }
    if (!numeric) { return cell.textContent.trim().toLowerCase(); }
    var v = cell.getAttribute("data-v");
    return v === null || v === "" ? null : parseFloat(v);
  }
  function sort(th, dir) {
    var table = th.closest("table"), body = table.tBodies[0], i = th.cellIndex;
    var numeric = th.getAttribute("data-type") === "num", was = th.getAttribute("aria-sort");
    if (!dir) { dir = was ? (was === "ascending" ? -1 : 1) : (th.getAttribute("data-first") === "desc" ? -1 : 1); }
    table.querySelectorAll("th[aria-sort]").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a, i, numeric), y = key(b, i, numeric);
      if (x === null || y === null) { return (x === null) - (y === null); }
      return dir * (x < y ? -1 : x > y ? 1 : 0);
    });
    rows.forEach(function (r) { body.appendChild(r); });
    if (table.id) { sorted = [table.id, i, dir === 1 ? "a" : "d"]; }
  }
  function groups() {
    var on = {};
    document.querySelectorAll("input[data-filter]").forEach(function (box) {
      var k = box.getAttribute("data-filter");
      on[k] = on[k] || {all: [], checked: []};
      on[k].all.push(box.value);
      if (box.checked) { on[k].checked.push(box.value); }
    });
    return on;
  }
  // Any element carrying data-K for a filter K is hidden when its value is unticked (a value the filter does
  // not list is never hidden); any element with data-pipeline is hidden when the search words are not all in
  // its pipeline, backbone or framework.
  function filter() {
    var on = groups(), keys = Object.keys(on), q = search ? search.value.trim().toLowerCase() : "";
    var words = q ? q.split(/\s+/) : [], unmeasured = all !== null && all.checked;
    var selector = keys.map(function (k) { return "[data-" + k + "]"; }).concat(["[data-pipeline]"]).join(",");
    document.querySelectorAll(selector).forEach(function (el) {
      if (el.hasAttribute("data-filter")) { return; }
      var show = keys.every(function (k) {
        var v = el.getAttribute("data-" + k);
        return v === null || on[k].all.indexOf(v) < 0 || on[k].checked.indexOf(v) >= 0;
      });
      if (show && words.length && el.hasAttribute("data-pipeline")) {
        var text = ["pipeline", "backbone", "framework"].map(function (a) {
          return el.getAttribute("data-" + a) || "";
        }).join(" ").toLowerCase();
        show = words.every(function (w) { return text.indexOf(w) >= 0; });
      }
      el.classList.toggle("off", !show || (!unmeasured && el.classList.contains("unmeasured")));
    });
    document.querySelectorAll("section[data-dataset]").forEach(function (s) {
      var rows = s.querySelectorAll("table.board tbody tr"), count = s.querySelector(".count");
      var shown = s.querySelectorAll("table.board tbody tr:not(.off)").length;
      if (count) { count.textContent = shown + " of " + rows.length + " rows shown"; }
    });
  }
  function stateHash() {
    var on = groups(), parts = [];
    Object.keys(on).forEach(function (k) {
      if (on[k].checked.length < on[k].all.length) {
        parts.push(k + "=" + on[k].checked.map(encodeURIComponent).join(","));
      }
    });
    if (search && search.value.trim()) { parts.push("q=" + encodeURIComponent(search.value.trim())); }
    if (all !== null && all.checked) { parts.push("unmeasured=1"); }
    if (sorted) { parts.push("sort=" + sorted.map(encodeURIComponent).join(".")); }
    return parts.join("&");
  }
  function save() {
    var h = stateHash(), share = document.getElementById("share");
    if (share) { share.setAttribute("href", "#" + h); }
    try { history.replaceState(null, "", h ? "#" + h : location.pathname + location.search); } catch (e) { /* */ }
  }
  function load() {
    var h = location.hash.slice(1);
    if (h.indexOf("=") < 0) { return; }
    var state = {};
    h.split("&").forEach(function (p) {
      var i = p.indexOf("=");
      if (i > 0) { state[p.slice(0, i)] = p.slice(i + 1); }
    });
    var on = groups();
    Object.keys(on).forEach(function (k) {
      if (!(k in state)) { return; }
      var picked = state[k] === "" ? [] : state[k].split(",").map(decodeURIComponent);
      document.querySelectorAll("input[data-filter='" + k + "']").forEach(function (box) {
        box.checked = picked.indexOf(box.value) >= 0;
      });
    });
    if (search && state.q) { search.value = decodeURIComponent(state.q); }
    if (all !== null) { all.checked = state.unmeasured === "1"; }
    if (state.sort) {
      var s = state.sort.split(".").map(decodeURIComponent), table = document.getElementById(s[0]);
      var th = table && table.tHead && table.tHead.rows[0].cells[parseInt(s[1], 10)];
      if (th && th.hasAttribute("data-type")) { sort(th, s[2] === "d" ? -1 : 1); }
    }
  }
  function update() { filter(); save(); }
  function showTip(el, x, y) {
    var text = el.getAttribute("data-tip");
    if (!text) {
      var title = el.querySelector(":scope > title");
      text = title ? title.textContent : "";
    }
    if (!text || !tip) { return; }
    tip.textContent = text;
    tip.hidden = false;
    var w = tip.offsetWidth, h = tip.offsetHeight;
    tip.style.left = Math.max(4, Math.min(x + 12, window.innerWidth - w - 8)) + "px";
    tip.style.top = (y + 14 + h > window.innerHeight ? y - h - 10 : y + 14) + "px";
  }
  function hideTip() { if (tip) { tip.hidden = true; } }
  document.addEventListener("mouseover", function (e) {
    var el = e.target.closest && e.target.closest("[data-tip]");
    if (el) { showTip(el, e.clientX, e.clientY); } else { hideTip(); }
  });
  document.addEventListener("focusin", function (e) {
    var el = e.target;
    if (el.closest && el.closest("svg") && (el.hasAttribute("data-tip") || el.querySelector(":scope > title"))) {
      var r = el.getBoundingClientRect();
      showTip(el, r.right, r.bottom);
    } else { hideTip(); }
  });
  document.addEventListener("focusout", hideTip);
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") { hideTip(); } });
  document.querySelectorAll("th[data-type] button").forEach(function (b) {
    b.addEventListener("click", function () { sort(b.parentNode); save(); });
  });
  document.querySelectorAll("input[data-filter], #show-unmeasured").forEach(function (box) {
    box.addEventListener("change", update);
  });
  if (search) { search.addEventListener("input", update); }
  // a summary cell jumps to its pair's line: shown even if the filters hid it, the view kept in the address
  document.querySelectorAll("a[href^='#d-'], a[href^='#ds-']").forEach(function (a) {
    a.addEventListener("click", function (e) {
      var target = document.getElementById(a.getAttribute("href").slice(1));
      if (!target) { return; }
      e.preventDefault();
      if (target.classList.contains("off")) {
        document.querySelectorAll("input[data-filter]").forEach(function (box) { box.checked = true; });
        if (search) { search.value = ""; }
        update();
      }
      target.scrollIntoView({block: "center"});
      target.classList.remove("flash");
      void target.offsetWidth;
      target.classList.add("flash");
    });
  });
  window.addEventListener("hashchange", function () { load(); filter(); });
  load();
  filter();
  save();
}());
"""
