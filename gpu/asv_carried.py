"""``asv`` for a copy of the checkout that may have no git history: ``python gpu/asv_carried.py run ...``.

``asv run --python=same --set-commit-hash SHA`` asks the repository only for that commit's hash, short
name and date (the results file records them). On a lent machine the working tree travels without a
usable ``.git`` (and git itself may be missing), so these come from ``$TOKFRAG_COMMIT_SHA`` and
``$TOKFRAG_COMMIT_DATE_MS`` (gpu/run.py reads them from git where it can, else from .gpu-carry/commit.json);
everything else is asv's own code, writing asv's own results files.
"""

from __future__ import annotations

import sys


def carried_repo():
    from asv.repo import NoRepository

    from tokfrag import config

    sha = config.commit_sha()
    date_ms = config.commit_date_ms()

    class CarriedCommit(NoRepository):
        """The one commit whose tree is here: asv may ask its hash, name and date, nothing else."""

        dvcs = "carried"

        def get_hash_from_name(self, name):
            return sha

        def get_date(self, hash):
            return date_ms

        def get_date_from_name(self, name):
            return date_ms

        def get_decorated_hash(self, commit, hash_length=8):
            return commit[:hash_length]

        def get_name_from_hash(self, commit):
            return None

        def get_branch_name(self, branch=None):
            return "main"

    return CarriedCommit()


def main(argv=None) -> int:
    import asv.commands.run
    from asv.main import main as asv_main

    repo = carried_repo()
    asv.commands.run.get_repo = lambda conf: repo
    sys.argv = ["asv", *(sys.argv[1:] if argv is None else argv)]
    return asv_main()


if __name__ == "__main__":
    sys.exit(main())
