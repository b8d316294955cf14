"""The leaderboard page in headless Chromium: no console errors, sorting, filters, no injection.

Needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver);
skipped when they are missing. The page is served from 127.0.0.1 by a server that records
every request, so the test also sees that the page loads nothing besides itself.
"""

import functools
import http.server
import shutil
import subprocess
import sys
import tempfile
import threading
import warnings
from pathlib import Path

import pytest

from helpers import write_results
from tokfrag import leaderboard

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parents[1]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).parent / "artifacts"
OFFLINE = "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"
EVIL = '<script>window.pwned=1</script>"onmouseover=window.pwned=2 <img src=x onerror="window.pwned=3">'


@pytest.fixture(scope="module")
def driver():
    if not Path(CHROMIUM).exists() or not Path(CHROMEDRIVER).exists():
        pytest.skip(f"needs {CHROMIUM} and chromedriver: apt-get install chromium chromium-driver")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="tokfrag-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--no-first-run",
                "--window-size=1500,1000", f"--user-data-dir={profile}",
                # networking off: every host name but the loopback test server fails to resolve
                f"--host-resolver-rules={OFFLINE}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    yield d
    d.quit()
    shutil.rmtree(profile, ignore_errors=True)


def serve_folder(html):
    """Serve ``html`` from 127.0.0.1; (server, base URL, the paths requested)."""
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(html)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}", requests


def serve(root, machines):
    """Write html/ with the leaderboard of ``machines`` ({name: has a GPU}) and serve it from 127.0.0.1."""
    for name, gpu in machines.items():
        write_results(root / "results", name, gpu=gpu)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        board = leaderboard.build(root / "results")
    leaderboard.write(board, root / "html")
    server, base, requests = serve_folder(root / "html")
    return server, {"url": f"{base}/leaderboard.html", "board": board, "requests": requests}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Two machines, one without a GPU."""
    server, info = serve(tmp_path_factory.mktemp("lb"), {"laptop": False, "gpubox": True})
    yield info
    server.shutdown()


@pytest.fixture(scope="module")
def evil_site(tmp_path_factory):
    """A machine whose name is markup and script."""
    server, info = serve(tmp_path_factory.mktemp("evil"), {EVIL: False, "gpubox": True})
    yield info
    server.shutdown()


def load(driver, site):
    driver.get_log("browser")  # reading the log empties it: each test sees its own page load only
    driver.get(site["url"])
    return driver


def visible_rows(driver):
    return [tr for tr in driver.find_elements("css selector", "table.board tbody tr") if tr.is_displayed()]


def test_loads_without_errors_or_outside_requests(driver, site):
    site["requests"].clear()
    load(driver, site)
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert not errors, errors
    assert set(site["requests"]) == {"/leaderboard.html"}, site["requests"]
    ARTIFACTS.mkdir(exist_ok=True)
    height, chrome = driver.execute_script("return [document.documentElement.scrollHeight, "
                                           "window.outerHeight - window.innerHeight]")
    driver.set_window_size(1500, height + chrome)
    driver.save_screenshot(str(ARTIFACTS / "leaderboard.png"))
    driver.set_window_size(1500, 1000)


def test_one_table_row_per_result_row(driver, site):
    load(driver, site)
    rows = driver.find_elements("css selector", "table.board tbody tr")
    assert len(rows) == len(site["board"].rows) == 16  # 2 machines x 2 frameworks x 2 pipelines x 2 devices
    # laptop's 4 GPU rows measured nothing: hidden until the one control asks for them
    assert len(visible_rows(driver)) == 12
    count = driver.find_element("css selector", "section[data-dataset] .count")
    assert count.text == "12 of 16 rows shown"
    toggle = driver.find_element("css selector", "#show-unmeasured")
    assert "4 unmeasured" in toggle.find_element("xpath", "..").text
    toggle.click()
    assert len(visible_rows(driver)) == 16 and count.text == "16 of 16 rows shown"


def test_markup_in_results_is_shown_not_run(driver, evil_site):
    load(driver, evil_site)
    assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert driver.execute_script("return window.pwned") is None
    names = driver.execute_script(
        "return Array.from(document.querySelectorAll('table.board td.name'), td => td.textContent)")
    assert names.count(EVIL) == 8
    assert driver.execute_script("return [document.scripts.length, document.images.length]") == [1, 0]
    assert not driver.execute_script("return Array.from(document.querySelectorAll('*')).some("
                                     "el => Array.from(el.attributes).some(a => a.name.startsWith('on')))")


def _column(driver, label):
    headers = driver.find_elements("css selector", "table.board thead th")
    index = next(i for i, th in enumerate(headers) if th.text.strip() == label)
    return headers[index], [tr.find_elements("css selector", "td")[index].get_attribute("data-v")
                            for tr in driver.find_elements("css selector", "table.board tbody tr")
                            if tr.is_displayed()]


def test_clicking_a_header_sorts(driver, site):
    load(driver, site)
    th, _ = _column(driver, "Train samples/s")
    th.find_element("css selector", "button").click()
    _, values = _column(driver, "Train samples/s")
    numbers = [float(v) for v in values if v]
    assert th.get_attribute("aria-sort") == "descending"
    assert numbers == sorted(numbers, reverse=True) and all(values[:len(numbers)])  # rows without one stay last
    th.find_element("css selector", "button").click()
    _, values = _column(driver, "Train samples/s")
    numbers = [float(v) for v in values if v]
    assert th.get_attribute("aria-sort") == "ascending"
    assert numbers == sorted(numbers) and all(values[:len(numbers)])
    th, _ = _column(driver, "Machine")
    th.find_element("css selector", "button").click()
    names = [tr.find_elements("css selector", "td")[4].text for tr in driver.find_elements(
        "css selector", "table.board tbody tr") if tr.is_displayed()]
    assert names == sorted(names, key=str.lower)


def test_filters_hide_rows_and_points(driver, site):
    load(driver, site)
    points = len(driver.find_elements("css selector", "svg g.pt"))
    driver.find_element("css selector", "input[data-filter=device][value=gpu]").click()
    rows = visible_rows(driver)
    assert len(rows) == 8 and all(tr.get_attribute("data-device") == "cpu" for tr in rows)
    driver.find_element("css selector", "input[data-filter=machine][value=laptop]").click()
    rows = visible_rows(driver)
    assert len(rows) == 4 and {tr.get_attribute("data-machine") for tr in rows} == {"gpubox"}
    assert driver.find_element("css selector", "section[data-dataset] .count").text == "4 of 16 rows shown"
    shown = [g for g in driver.find_elements("css selector", "svg g.pt") if g.is_displayed()]
    assert 0 < len(shown) < points
    assert all(g.get_attribute("data-device") == "cpu" and g.get_attribute("data-machine") != "laptop"
               for g in shown)
    machine_rows = driver.find_elements("css selector", "table.machines tbody tr")
    assert sum(tr.is_displayed() for tr in machine_rows) == 1
    driver.find_element("css selector", "input[data-filter=device][value=gpu]").click()
    assert len(visible_rows(driver)) == 8  # gpubox, both devices


# --- asv's own pages, offline ------------------------------------------------------------

@pytest.fixture(scope="module")
def asv_site(tmp_path_factory):
    """asv's pages and the leaderboard, built by `tokfrag publish` from the committed results/."""
    html = tmp_path_factory.mktemp("asv") / "html"
    tokfrag = Path(sys.executable).parent / "tokfrag"
    r = subprocess.run([str(tokfrag), "publish", "--html", str(html)], cwd=REPO, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    server, base, requests = serve_folder(html)
    yield {"base": base, "requests": requests, "html": html}
    server.shutdown()


def _wait(driver, script, timeout=30):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(lambda d: d.execute_script(script))


def _outside_requests(driver, base):
    """Resources the page fetched from anywhere but the test server (none may succeed offline)."""
    names = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    return [n for n in names if not n.startswith(base)]


def _screenshot(driver, name):
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / name))


# A graph is drawn when flot holds a series with points and its canvas has non-white pixels.
DRAWN = """
var div = window.$ && $('#main-graph'), plot = div && div.data('plot');
if (!plot) { return null; }
var points = plot.getData().reduce(function (n, s) { return n + s.data.length; }, 0);
var canvas = div.find('canvas.flot-base')[0], ctx = canvas.getContext('2d');
var px = ctx.getImageData(0, 0, canvas.width, canvas.height).data, ink = 0;
for (var i = 0; i < px.length; i += 4) {
  if (px[i + 3] > 0 && (px[i] < 200 || px[i + 1] < 200 || px[i + 2] < 200)) { ink++; }
}
return points > 0 && ink > 500 ? [points, ink] : null;
"""


def test_asv_index_lists_the_benchmarks_offline(driver, asv_site):
    driver.get(asv_site["base"] + "/index.html")
    count = _wait(driver, "var n = document.querySelectorAll('.benchmark-container').length; return n > 0 && n;")
    assert count >= 10
    assert not driver.current_url.endswith("error.html")
    assert "swallow" not in driver.find_element("tag name", "body").text.lower()
    assert driver.execute_script("return typeof $.plot === 'function' && typeof $.fn.stupidtable === 'function'"
                                 " && typeof md5 === 'function' && typeof $.fn.modal === 'function'")
    assert not _outside_requests(driver, asv_site["base"])
    assert any(p.startswith("/vendor/jquery/") for p in asv_site["requests"])
    driver.get(asv_site["base"] + "/index.html#/summarylist")
    rows = _wait(driver, "var n = document.querySelectorAll('table tbody tr').length; return n > 0 && n;")
    assert rows >= 10
    assert "track_parity" in driver.find_element("tag name", "table").text  # a benchmark every machine shown has
    _screenshot(driver, "asv-index-offline.png")


def test_asv_graph_page_draws_a_plot_offline(driver, asv_site):
    driver.get(asv_site["base"] + "/index.html#bench_pipelines.Step.time_train_step")
    points, ink = _wait(driver, DRAWN)
    assert points >= 1 and ink > 500
    assert not driver.current_url.endswith("error.html")
    assert not _outside_requests(driver, asv_site["base"])
    _screenshot(driver, "asv-graph-offline.png")


def test_leaderboard_links_land_on_working_asv_pages(driver, asv_site):
    driver.get(asv_site["base"] + "/leaderboard.html")
    links = [a.get_attribute("href") for a in driver.find_elements("css selector", "a[href*='index.html#']")]
    assert links, "the leaderboard links no asv graph"
    for href in (links[0], links[len(links) // 2], links[-1]):
        driver.get("about:blank")
        driver.get(href)
        assert _wait(driver, DRAWN), href
        assert not driver.current_url.endswith("error.html")
    assert not _outside_requests(driver, asv_site["base"])


# --- issue #24: the answer first, plots that read, tables people can use ---------------------------------

# Pairs of <text> boxes that overlap, over every SVG of the page (0.5 px of tolerance).
OVERLAPS = """
var pairs = [];
document.querySelectorAll('svg').forEach(function (svg) {
  var texts = Array.from(svg.querySelectorAll('text')).filter(function (t) {
    var r = t.getBoundingClientRect(); return r.width > 0 && r.height > 0 && t.textContent.trim();
  });
  var boxes = texts.map(function (t) { return t.getBoundingClientRect(); });
  for (var i = 0; i < boxes.length; i++) {
    for (var j = i + 1; j < boxes.length; j++) {
      var a = boxes[i], b = boxes[j];
      if (a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5) {
        pairs.push([texts[i].textContent, texts[j].textContent]);
      }
    }
  }
});
return pairs;
"""


def overlapping_labels(driver, url, width):
    driver.set_window_size(width, 1000)
    driver.get(url)
    return driver.execute_script(OVERLAPS)


def test_the_overlap_measure_finds_overlapping_labels(driver, tmp_path):
    """The measure itself can fail: labels drawn on top of each other (as the old plots did) are counted."""
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="300" height="100"><text x="10" y="20">token · PT · cpu'
           '</text><text x="14" y="22">fragment · TF · cpu</text><text x="200" y="80">apart</text></svg>')
    (tmp_path / "overlap.html").write_text(f"<!doctype html><html><body>{svg}</body></html>")
    pairs = overlapping_labels(driver, (tmp_path / "overlap.html").as_uri(), 1280)
    assert pairs == [["token · PT · cpu", "fragment · TF · cpu"]]
    driver.set_window_size(1500, 1000)


@pytest.mark.parametrize("width", [1280, 1920])
def test_plots_of_the_committed_results_have_no_overlapping_labels(driver, asv_site, width):
    url = asv_site["base"] + "/leaderboard.html"
    pairs = overlapping_labels(driver, url, width)
    assert driver.execute_script("return document.querySelectorAll('svg').length") >= 4
    assert driver.execute_script("return document.querySelectorAll('svg g.pt').length") >= 40
    assert pairs == []
    driver.set_window_size(1500, 1000)


def test_the_committed_page_opens_with_the_answer(driver, asv_site):
    driver.set_window_size(1500, 1000)
    driver.get(asv_site["base"] + "/leaderboard.html")
    first = driver.execute_script("return document.querySelector('main > section').id")
    assert first == "answer"
    top = driver.execute_script("return document.getElementById('answer').getBoundingClientRect().top")
    assert top < 250  # on the first screen
    datasets = driver.execute_script(
        "return Array.from(document.querySelectorAll('#answer .answer-ds h3'), h => h.textContent)")
    assert datasets == ["mnist", "text", "video"]
    tones = driver.execute_script("return Array.from(document.querySelectorAll('#answer td'), td => td.className)")
    assert {"v-a", "v-b", "v-none", "v-na"} <= set(tones)
    # the epyc-avx512-2c speeds are excluded (results/annotations.toml): greyed, no ratio, off the verdicts
    excluded = driver.execute_script(
        "return Array.from(document.querySelectorAll('#answer .sum-speed tr[data-machine=\"epyc-avx512-2c\"] td'),"
        " td => td.textContent)")
    assert excluded and set(excluded) == {"excluded"}
    assert "epyc-avx512-2c" not in " ".join(driver.execute_script(
        "return Array.from(document.querySelectorAll('table.verdicts tr'), tr => tr.textContent)"
        ".filter(t => t.indexOf('Step time') >= 0)"))
    greyed = driver.find_elements("css selector", "table.board td.excluded")
    assert greyed and "shared" in greyed[0].get_attribute("title")
    assert not driver.execute_script("return Array.from(document.querySelectorAll('svg g.pt'))"
                                     ".some(g => g.getAttribute('data-machine') === 'epyc-avx512-2c')")
    paragraphs = driver.execute_script("return Array.from(document.querySelectorAll('main p'), p => p.textContent)")
    assert not [p for p in paragraphs if p.startswith("On ")]  # no verdict paragraphs any more
    # a summary cell leads to its pair's line
    link = driver.find_element("css selector", "#answer td.v-b a")
    target = link.get_attribute("href").split("#")[1]
    link.click()
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 10).until(lambda d: d.execute_script(  # a loaded machine scrolls late
        f"var r = document.getElementById('{target}').getBoundingClientRect();"
        "return r.top >= 0 && r.bottom <= window.innerHeight"))
    driver.set_window_size(1500, driver.execute_script("return document.documentElement.scrollHeight") + 100)
    driver.execute_script("window.scrollTo(0, 0)")
    _screenshot(driver, "leaderboard-committed.png")
    driver.set_window_size(1500, 1000)
    driver.get(asv_site["base"] + "/leaderboard.html")
    _screenshot(driver, "leaderboard-answer.png")


def test_points_describe_themselves_on_hover_and_focus(driver, site):
    from selenium.webdriver.common.action_chains import ActionChains

    load(driver, site)
    tip = driver.find_element("id", "tip")
    assert not tip.is_displayed()
    point = driver.find_element("css selector", "svg g.pt")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", point)
    ActionChains(driver).move_to_element(point).perform()
    assert tip.is_displayed() and point.get_attribute("data-tip") == tip.text
    assert "mnist/" in tip.text and "accuracy" in tip.text and "seed" in tip.text
    ActionChains(driver).move_to_element(driver.find_element("css selector", "figcaption")).perform()
    assert not tip.is_displayed()
    driver.execute_script("document.getElementById('search').focus()")
    for _ in range(200):  # keyboard only: Tab until a point has the focus
        ActionChains(driver).send_keys("\ue004").perform()
        if driver.execute_script("return document.activeElement.matches('svg g.pt')"):
            break
    assert driver.execute_script("return document.activeElement.matches('svg g.pt')")
    assert tip.is_displayed() and tip.text == driver.execute_script(
        "return document.activeElement.getAttribute('aria-label')")
    _screenshot(driver, "leaderboard-focus.png")


def test_filters_sort_and_search_are_kept_in_a_shareable_link(driver, site):
    load(driver, site)
    driver.find_element("css selector", "input[data-filter=machine][value=laptop]").click()
    th, _ = _column(driver, "Train samples/s")
    th.find_element("css selector", "button").click()
    search = driver.find_element("id", "search")
    search.send_keys("token")
    url = driver.current_url
    assert "machine=gpubox" in url and "q=token" in url and "sort=mnist-board." in url
    assert driver.find_element("id", "share").get_attribute("href") == url
    rows = visible_rows(driver)
    assert len(rows) == 4 and {tr.get_attribute("data-pipeline") for tr in rows} == {"mnist/token"}
    assert {tr.get_attribute("data-machine") for tr in rows} == {"gpubox"}
    points = [g for g in driver.find_elements("css selector", "svg g.pt") if g.is_displayed()]
    assert points and all(g.get_attribute("data-pipeline") == "mnist/token" for g in points)
    # the link, opened afresh, shows the same view
    driver.get("about:blank")
    driver.get(url)
    assert not driver.find_element("css selector", "input[data-filter=machine][value=laptop]").is_selected()
    assert driver.find_element("id", "search").get_attribute("value") == "token"
    th, values = _column(driver, "Train samples/s")
    assert th.get_attribute("aria-sort") == "descending"
    numbers = [float(v) for v in values if v]
    assert len(values) == 4 and numbers == sorted(numbers, reverse=True)
    # keyboard: a header's sort button takes Enter
    th, _ = _column(driver, "Accuracy %")
    th.find_element("css selector", "button").send_keys("\ue007")
    assert th.get_attribute("aria-sort") == "descending"


def test_the_page_works_from_a_file(driver, site, tmp_path):
    """No server: the published page opened from disk filters, sorts and describes its points."""
    page = tmp_path / "copy" / "leaderboard.html"
    page.parent.mkdir()
    page.write_text(leaderboard.page(site["board"]), encoding="utf-8")
    driver.get_log("browser")
    driver.get(page.as_uri())
    assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    driver.find_element("css selector", "input[data-filter=device][value=gpu]").click()
    assert "device=cpu" in driver.current_url
    assert all(tr.get_attribute("data-device") == "cpu" for tr in visible_rows(driver))


def test_the_published_folder_is_a_static_site_anywhere(driver, asv_site, tmp_path):
    """What `tokfrag publish` wrote, copied to another directory and served from there as it is."""
    site = tmp_path / "elsewhere" / "site"
    shutil.copytree(asv_site["html"], site)
    server, base, requests = serve_folder(site)
    try:
        driver.get_log("browser")
        driver.get(base + "/leaderboard.html")
        assert not [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert driver.execute_script("return document.querySelector('main > section').id") == "answer"
        driver.get(base + "/index.html")
        assert _wait(driver, "var n = document.querySelectorAll('.benchmark-container').length; return n > 0 && n;")
        assert not _outside_requests(driver, base)
    finally:
        server.shutdown()


def test_any_element_with_a_filter_attribute_follows_the_filters(driver, site):
    """The convention other sections rely on (the scale section's SVG groups): data-K="v" is hidden when v
    is unticked in filter K; a value the filter does not list stays shown."""
    load(driver, site)
    driver.execute_script(
        "var svg = document.querySelector('svg');"
        "['laptop', 'elsewhere'].forEach(function (m) {"
        "  var g = document.createElementNS('http://www.w3.org/2000/svg', 'g');"
        "  g.setAttribute('data-machine', m); g.setAttribute('data-framework', 'pytorch'); g.id = 'probe-' + m;"
        "  g.innerHTML = '<circle cx=\"20\" cy=\"20\" r=\"4\"/>'; svg.appendChild(g); });")
    driver.find_element("css selector", "input[data-filter=machine][value=laptop]").click()
    hidden = driver.execute_script("return ['laptop', 'elsewhere'].map(function (m) {"
                                   "  return document.getElementById('probe-' + m).classList.contains('off'); })")
    assert hidden == [True, False]
    driver.find_element("css selector", "input[data-filter=machine][value=laptop]").click()
    assert not driver.execute_script("return document.getElementById('probe-laptop').classList.contains('off')")
