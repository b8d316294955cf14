"""asv's pages without a network: every CDN asset is installed from npm, verified, and served locally."""

import base64
import hashlib
import json
import re
import shutil
from pathlib import Path

import asv
import pytest

from tokfrag.leaderboard import offline

REPO = Path(__file__).resolve().parents[1]
WWW = Path(asv.__file__).parent / "www"
# Files whose npm copy is not byte-identical to the CDN's (see offline.py's docstring):
# cdnjs' own minified flot builds, and stupidtable 1.0.1, which npm never had.
NOT_THE_CDN_BYTES = {"flot/jquery.flot.js", "flot/jquery.flot.time.js", "flot/jquery.flot.selection.js",
                     "flot/jquery.flot.categories.js", "stupid-table-plugin/stupidtable.min.js"}


def asv_pages() -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(WWW.glob("*.html"))}


def integrity_of(html: str) -> dict[str, str]:
    """{url: the integrity attribute asv's template gives it}."""
    out = {}
    for tag in re.findall(r"<(?:script|link)\b[^>]*>", html):
        url = re.search(r"(?:src|href)=\"(https?://[^\"]+)\"", tag)
        sri = re.search(r"integrity=\"([^\"]+)\"", tag)
        if url and sri:
            out[url.group(1)] = sri.group(1)
    return out


def sri(path: Path, algorithm: str) -> str:
    return f"{algorithm}-" + base64.b64encode(hashlib.new(algorithm, path.read_bytes()).digest()).decode()


def test_every_cdn_url_of_asvs_pages_has_a_local_copy():
    urls = {u for html in asv_pages().values() for u in offline.network_urls(html)}
    assert urls, "asv's templates load nothing from CDNs: has asv changed? (then offline.py can go)"
    assert urls == set(offline.BY_URL), f"asv's CDN assets and offline.ASSETS differ: {urls ^ set(offline.BY_URL)}"


def test_installed_files_are_the_ones_asv_names():
    """Where npm ships the CDN's very file, its hash is the one asv's own integrity attribute states."""
    root = offline.check_assets()
    stated = integrity_of(asv_pages()["index.html"])
    same = set()
    for asset in offline.ASSETS:
        want = stated[asset.url]
        if sri(root / asset.path, want.split("-", 1)[0]) == want:
            same.add(asset.path)
    assert {a.path for a in offline.ASSETS} - same == NOT_THE_CDN_BYTES


def test_versions_are_pinned_and_locked_with_integrity_hashes():
    package = json.loads((REPO / "web" / "package.json").read_text())
    lock = json.loads((REPO / "web" / "package-lock.json").read_text())
    for name, version in package["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name}: {version} is not an exact version"
        entry = lock["packages"][f"node_modules/{name}"]
        assert entry["version"] == version and entry["integrity"].startswith("sha512-")
    # the versions asv 0.6.6 names in its CDN URLs (stupidtable aside: see offline.py)
    names = {"jquery": "3.3.1", "flot": "0.8.3", "flot-orderbars": "1.0.0", "blueimp-md5": "2.19.0",
             "bootstrap": "3.1.1"}
    for name, version in names.items():
        assert package["dependencies"][name] == version
        assert any(version in a.url for a in offline.ASSETS if a.path.startswith(name + "/"))


@pytest.fixture
def site(tmp_path):
    html = tmp_path / "html"
    shutil.copytree(WWW, html)
    return html


def test_localize_leaves_pages_that_load_only_local_files(site):
    pages = offline.localize(site)
    assert [p.name for p in pages] == ["index.html"]
    for page in site.glob("*.html"):
        text = page.read_text()
        assert not offline.network_urls(text), page
        assert "integrity=" not in text and "crossorigin" not in text
        for src in re.findall(r"(?:src|href)=\"(vendor/[^\"]+)\"", text):
            assert (site / src).is_file(), src
    for asset in offline.ASSETS:
        assert offline.sha256(site / offline.VENDOR / asset.path) == asset.sha256
    assert 'onerror="js_load_failure()"' in (site / "index.html").read_text()  # asv's own fallback stays
    assert offline.localize(site) == []  # a second pass finds nothing left to do


def test_an_altered_asset_is_refused_and_nothing_is_written(site, tmp_path):
    assets = tmp_path / "node_modules"
    shutil.copytree(offline.assets_dir(), assets)
    victim = assets / offline.ASSETS[0].path
    victim.write_text(victim.read_text() + "\nwindow.pwned = 1;\n")
    before = (site / "index.html").read_text()
    with pytest.raises(offline.OfflineError, match=r"jquery\.min\.js has sha256 .*expected .*make setup"):
        offline.localize(site, assets)
    assert (site / "index.html").read_text() == before and not (site / offline.VENDOR).exists()


def test_missing_assets_say_how_to_install_them(site, tmp_path, monkeypatch):
    monkeypatch.setenv("TOKFRAG_WEB_ASSETS", str(tmp_path / "nowhere"))
    with pytest.raises(offline.OfflineError, match=r"is missing.*npm ci --prefix web"):
        offline.localize(site)
    assert not (site / offline.VENDOR).exists()


def test_an_unknown_cdn_url_is_named(site):
    page = site / "index.html"
    page.write_text(page.read_text().replace("</head>", '<script src="https://cdn.example/x.js"></script></head>'))
    before = page.read_text()
    with pytest.raises(offline.OfflineError, match=r"index\.html loads https://cdn\.example/x\.js"):
        offline.localize(site)
    assert page.read_text() == before
