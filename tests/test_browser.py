"""The leaderboard page in headless Chromium: no console errors, sorting, filters, no injection.

Needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver);
skipped when they are missing. The page is served from 127.0.0.1 by a server that records
every request, so the test also sees that the page loads nothing besides itself.
"""

import functools
import http.server
import shutil
import tempfile
import threading
import warnings
from pathlib import Path

import pytest

from test_leaderboard import write_results
from tokfrag import leaderboard

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).parent / "artifacts"
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
                "--window-size=1500,1000", f"--user-data-dir={profile}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    yield d
    d.quit()
    shutil.rmtree(profile, ignore_errors=True)


def serve(root, machines):
    """Write html/ with the leaderboard of ``machines`` ({name: has a GPU}) and serve it from 127.0.0.1."""
    for name, gpu in machines.items():
        write_results(root / "results", name, gpu=gpu)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        board = leaderboard.build(root / "results")
    leaderboard.write(board, root / "html")
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(Handler, directory=str(root / "html")))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/leaderboard.html"
    return server, {"url": url, "board": board, "requests": requests}


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
    assert len(visible_rows(driver)) == 16
    assert driver.find_element("css selector", "section[data-dataset] .count").text == "16 of 16 rows shown"


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
                            for tr in driver.find_elements("css selector", "table.board tbody tr")]


def test_clicking_a_header_sorts(driver, site):
    load(driver, site)
    th, _ = _column(driver, "Train samples/s")
    th.find_element("css selector", "button").click()
    _, values = _column(driver, "Train samples/s")
    numbers = [float(v) for v in values if v]
    assert th.get_attribute("aria-sort") == "descending"
    assert numbers == sorted(numbers, reverse=True) and values[-1] == ""  # skipped rows stay last
    th.find_element("css selector", "button").click()
    _, values = _column(driver, "Train samples/s")
    numbers = [float(v) for v in values if v]
    assert th.get_attribute("aria-sort") == "ascending"
    assert numbers == sorted(numbers) and values[-1] == ""
    th, _ = _column(driver, "Machine")
    th.find_element("css selector", "button").click()
    names = [tr.find_elements("css selector", "td")[4].text for tr in driver.find_elements(
        "css selector", "table.board tbody tr")]
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
