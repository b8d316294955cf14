"""Cross-framework equivalence as a tracked number, so that it is stored with every machine's
results, shown in the leaderboard and gated by `tokfrag compare` like any other metric."""

from __future__ import annotations

from . import common


class Parity:
    params = (common.PIPELINE_NAMES,)
    param_names = ["pipeline"]
    timeout = 900

    def setup(self, pipeline):
        from tokfrag import frameworks, parity

        missing = [fw for fw in frameworks.FRAMEWORKS if not frameworks.installed(fw)]
        if missing:
            raise NotImplementedError(f"not checked ({', '.join(missing)} missing)")
        self.rows = parity.check_pipeline(common.spec_for(pipeline))

    def track_parity(self, pipeline):
        """Checks of `tokfrag parity` that failed for this pipeline (0: equivalent)."""
        return sum(r.status != "pass" for r in self.rows)

    track_parity.unit = "failed checks"
