"""asv's pages without a network: its CDN scripts and style sheet, served from html/vendor/.

asv 0.6.6's ``index.html`` loads jQuery, flot, flot-orderbars, stupidtable, blueimp-md5 and
Bootstrap from three CDNs; offline, its ``onerror`` handler sends the reader to the "continental
origin of swallow" error page. ``make setup`` installs the same libraries from the npm registry
(``web/package.json``, versions pinned and tarballs verified by ``web/package-lock.json``'s
sha512 integrity); :func:`localize` copies each file into ``html/vendor/``, checks its sha256
against :data:`ASSETS`, and points asv's tags at the copy. It runs in the asv publisher plugin,
so ``asv publish`` and ``tokfrag publish`` both leave pages that load only local files.

Where the npm file is the very file the CDN serves, the sha256 below is the one asv's own
``integrity`` attribute states (checked in ``tests/test_offline.py``). Two differ, deliberately:
- flot 0.8.3: cdnjs serves minified copies that cdnjs made itself; npm's ``flot@0.8.3`` ships the
  same release unminified.
- stupidtable: asv names cdnjs' 1.0.1, which was never published to npm; ``stupid-table-plugin``
  1.1.3 (the only release there) has the same API (``stupidtable()``, ``stupidsort()``).
"""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from .. import config

VENDOR = "vendor"  # folder inside html/


@dataclass(frozen=True)
class Asset:
    url: str  # as asv's template names it
    path: str  # under node_modules/
    sha256: str


ASSETS = (
    Asset("https://code.jquery.com/jquery-3.3.1.min.js", "jquery/dist/jquery.min.js",
          "160a426ff2894252cd7cebbdd6d6b7da8fcd319c65b70468f10b6690c45d02ef"),
    Asset("https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.min.js", "flot/jquery.flot.js",
          "b7b931f273c38b1277b9c6c1f4e05c4ec09885a487bddaf3279e2d7e49a38e12"),
    Asset("https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.time.min.js", "flot/jquery.flot.time.js",
          "a582c832adc7138a6b05aaf61f16ebac274701f1be4afea77e739a1c34b9c41a"),
    Asset("https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.selection.min.js",
          "flot/jquery.flot.selection.js", "e6c85f6c1ebe4b4da29d8ae238c7c5060283f05f7ef054f6b91817d02c092918"),
    Asset("https://cdnjs.cloudflare.com/ajax/libs/flot/0.8.3/jquery.flot.categories.min.js",
          "flot/jquery.flot.categories.js", "6e81664b28ea795c734906f4aa15614640a75ac7fbd399a7fb9084040698351a"),
    Asset("https://cdn.jsdelivr.net/npm/flot-orderbars@1.0.0/js/jquery.flot.orderBars.js",
          "flot-orderbars/js/jquery.flot.orderBars.js",
          "39735b4f46f96ff4e082572401f47c55a2767b366fd1d1e821e44a8d830a12bf"),
    Asset("https://cdnjs.cloudflare.com/ajax/libs/stupidtable/1.0.1/stupidtable.min.js",
          "stupid-table-plugin/stupidtable.min.js", "4642380f28ebe9ed7cac251793b281ef8620c4386205d92788f9b12f5cceb4e0"),
    Asset("https://cdnjs.cloudflare.com/ajax/libs/blueimp-md5/2.19.0/js/md5.min.js", "blueimp-md5/js/md5.min.js",
          "64d7ded388c562e4bde9e58ce205e5fa01b9734fcd434d496eb7b4fbfe9b927d"),
    Asset("https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/js/bootstrap.min.js", "bootstrap/dist/js/bootstrap.min.js",
          "898d05a17f2cfc5120ddcdba47a885c378c0b466f30f0700e502757e24b403a1"),
    Asset("https://cdn.jsdelivr.net/npm/bootstrap@3.1.1/dist/css/bootstrap.min.css",
          "bootstrap/dist/css/bootstrap.min.css", "e9503448692b738dd260fbd7f7cabf2e11f09b600fa97e6eb3a56eba5b1a7e9b"),
)
BY_URL = {a.url: a for a in ASSETS}

# A <script src=...> or <link href=...> tag loading from the network.
_TAG = re.compile(r"<(script|link)\b([^>]*?)\b(src|href)=\"(https?://[^\"]+)\"([^>]*)>", re.IGNORECASE)
# Attributes that only make sense for a cross-origin fetch: integrity (SRI needs CORS, which
# file:// pages do not have), crossorigin, referrerpolicy.
_CROSS = re.compile(r"\s+(integrity|crossorigin|referrerpolicy)=\"[^\"]*\"", re.IGNORECASE)
SETUP_HINT = "run `make setup` (it runs `npm ci --prefix web`), or set TOKFRAG_WEB_ASSETS to a node_modules folder"


class OfflineError(Exception):
    """asv's pages cannot be made to work offline (assets missing, altered or unknown)."""


def assets_dir() -> Path:
    """node_modules with asv's assets: $TOKFRAG_WEB_ASSETS, else the checkout's web/node_modules."""
    return config.web_assets() or Path(__file__).resolve().parents[2] / "web" / "node_modules"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_assets(root: Path | None = None) -> Path:
    """``root`` (default :func:`assets_dir`) if every asset is there with its sha256; else OfflineError."""
    root = Path(root) if root else assets_dir()
    problems = []
    for a in ASSETS:
        f = root / a.path
        if not f.is_file():
            problems.append(f"{f} is missing")
        elif sha256(f) != a.sha256:
            problems.append(f"{f} has sha256 {sha256(f)}, expected {a.sha256}")
    if problems:
        raise OfflineError("asv's pages need their JavaScript and CSS installed locally: "
                           + "; ".join(problems) + f". Fix: {SETUP_HINT}")
    return root


def network_urls(html: str) -> list[str]:
    """URLs that a page's script and link tags would fetch from the network."""
    return [m.group(4) for m in _TAG.finditer(html)]


def _rewrite(html: str, page: Path) -> str:
    def local(m: re.Match) -> str:
        tag, before, attr, url, after = m.groups()
        asset = BY_URL.get(url)
        if asset is None:
            raise OfflineError(f"{page} loads {url}, which tokfrag does not install: asv's templates changed; "
                               "add the package to web/package.json and the file to ASSETS in "
                               "tokfrag/leaderboard/offline.py")
        return f'<{tag}{_CROSS.sub("", before).rstrip()} {attr}="{VENDOR}/{asset.path}"{_CROSS.sub("", after)}>'

    return _TAG.sub(local, html)


def localize(html_dir: str | Path, root: str | Path | None = None) -> list[Path]:
    """Point every ``*.html`` page of asv's ``html_dir`` at verified local copies; the pages rewritten.

    The whole job is checked before anything is written: on OfflineError the folder is as asv
    left it.
    """
    html_dir = Path(html_dir)
    root = check_assets(root)
    pages = {p: p.read_text(encoding="utf-8") for p in sorted(html_dir.glob("*.html"))}
    rewritten = {p: _rewrite(text, p) for p, text in pages.items() if network_urls(text)}
    for a in ASSETS:
        dest = html_dir / VENDOR / a.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / a.path, dest)
    for p, text in rewritten.items():
        p.write_text(text, encoding="utf-8")
    return list(rewritten)
