"""asv publisher plugin: every ``asv publish`` rewrites html/leaderboard.html and makes asv's pages offline.

``asv publish`` deletes and rebuilds its html_dir, then runs every ``OutputPublisher``
subclass it knows. asv imports this module when asv.conf.json lists it (the leading dot
makes asv import it by module path, from the directory asv runs in)::

    "plugins": [".tokfrag.leaderboard.asv_plugin"]

Besides writing the leaderboard, it points asv's own pages at local, sha256-checked copies of
the scripts asv loads from CDNs (:mod:`.offline`); when they are not installed, ``asv publish``
fails with the fix rather than leaving pages that break without a network.
"""

from __future__ import annotations

import warnings

from asv.console import log
from asv.publishing import OutputPublisher
from asv.util import UserError

from ..errors import printable
from .model import LeaderboardError, build
from .offline import OfflineError, localize
from .render import write


class Leaderboard(OutputPublisher):
    name = "leaderboard"
    button_label = "Leaderboard"
    description = "Latest results of every machine, ranked (leaderboard.html)"
    order = 10  # after asv's own pages

    @classmethod
    def publish(cls, conf, repo, benchmarks, graphs, revisions):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                path, error = write(build(conf.results_dir), conf.html_dir), None
            except LeaderboardError as e:
                path, error = None, e
        for w in caught:
            log.warning(printable(str(w.message)))
        if error:
            log.warning(printable(f"leaderboard not written: {error}"))
        else:
            log.info(f"leaderboard: {path}")
        try:
            pages = localize(conf.html_dir)
        except OfflineError as e:
            raise UserError(printable(str(e))) from None
        log.info(f"asv's pages load only local files: {', '.join(p.name for p in pages)} -> vendor/")
