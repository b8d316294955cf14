"""The page's inline style sheet and script (hashed into its Content-Security-Policy).

Kept as strings, not package data files, so the page builds from any install of tokfrag.
The script sorts a table when a column header is clicked (missing values stay last) and
hides every element (table rows, plot points and lines, verdict paragraphs) whose ``data-device``
or ``data-machine`` is unticked in the filters; rows of class ``unmeasured`` (nothing measured)
stay hidden until the page's one ``#show-unmeasured`` box is ticked. Each section's ``.count``
says how many of its board rows are shown.
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
.off { display: none; }
footer { padding: 10px 20px 16px; color: var(--mute); font-size: 11px; border-top: 1px solid var(--line); }
"""

JS = """
(function () {
  "use strict";
  function key(row, i, numeric) {
    var cell = row.cells[i];
    if (!numeric) { return cell.textContent.trim().toLowerCase(); }
    var v = cell.getAttribute("data-v");
    return v === null || v === "" ? null : parseFloat(v);
  }
  function sort(th) {
    var table = th.closest("table"), body = table.tBodies[0], i = th.cellIndex;
    var numeric = th.getAttribute("data-type") === "num", was = th.getAttribute("aria-sort");
    var dir = was ? (was === "ascending" ? -1 : 1) : (th.getAttribute("data-first") === "desc" ? -1 : 1);
    table.querySelectorAll("th[aria-sort]").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a, i, numeric), y = key(b, i, numeric);
      if (x === null || y === null) { return (x === null) - (y === null); }
      return dir * (x < y ? -1 : x > y ? 1 : 0);
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  function filter() {
    var on = {};
    document.querySelectorAll("input[data-filter]").forEach(function (box) {
      var k = box.getAttribute("data-filter");
      on[k] = on[k] || new Set();
      if (box.checked) { on[k].add(box.value); }
    });
    var all = document.getElementById("show-unmeasured"), unmeasured = all !== null && all.checked;
    document.querySelectorAll("[data-machine]").forEach(function (el) {
      var show = Object.keys(on).every(function (k) {
        return !el.hasAttribute("data-" + k) || on[k].has(el.getAttribute("data-" + k));
      });
      el.classList.toggle("off", !show || (!unmeasured && el.classList.contains("unmeasured")));
    });
    document.querySelectorAll("section[data-dataset]").forEach(function (s) {
      var rows = s.querySelectorAll("table.board tbody tr");
      var shown = s.querySelectorAll("table.board tbody tr:not(.off)").length;
      s.querySelector(".count").textContent = shown + " of " + rows.length + " rows shown";
    });
  }
  document.querySelectorAll("th[data-type] button").forEach(function (b) {
    b.addEventListener("click", function () { sort(b.parentNode); });
  });
  document.querySelectorAll("input[data-filter], #show-unmeasured").forEach(function (box) {
    box.addEventListener("change", filter);
  });
  filter();
}());
"""
