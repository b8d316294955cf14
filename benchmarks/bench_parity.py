"""Cross-framework equivalence as a tracked number, so that it is stored with every machine's
results, shown in the leaderboard and gated by `tokfrag compare` like any other metric.

All pipelines are checked in one process (asv's ``setup_cache``, run once per session), so
the two frameworks are imported once rather than once per pipeline; each pipeline's result
is then read by its own, framework-free benchmark process.
"""

from __future__ import annotations

from . import common


class Parity:
    params = (common.PIPELINE_NAMES,)
    param_names = ["pipeline"]
    timeout = 1800  # all pipelines, in setup_cache

    def setup_cache(self):
        return common.parity_failures(common.PIPELINE_NAMES)

    def setup(self, checked, pipeline):
        if "skip" in checked:
            raise NotImplementedError(checked["skip"])

    def track_parity(self, checked, pipeline):
        """Checks of `tokfrag parity` that failed for this pipeline (0: equivalent)."""
        failed = checked[pipeline]
        if isinstance(failed, str):
            raise RuntimeError(f"the parity checks of {pipeline} raised {failed}")
        return failed

    track_parity.unit = "failed checks"
