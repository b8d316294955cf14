"""PyTorch on the GPU against PyTorch on the CPU (``tokfrag.device_parity``), as a tracked number: the
GPU's speed figures are only worth comparing if the GPU computes the same network. Run by the lent-GPU
script (``gpu/run.py``, ``make gpu-rehearsal`` on a CPU); skipped where the device is missing.

All pipelines and devices are checked in one process (asv's ``setup_cache``): torch is imported once.
The ``cpu`` row compares two CPU trainers built apart (reproducibility), what a CPU rehearsal checks.
"""

from __future__ import annotations

import sys

from . import common


class Parity:
    params = (common.PIPELINE_NAMES, common.DEVICES)
    param_names = ["pipeline", "device"]
    timeout = 900  # all pipelines and devices, in setup_cache

    def setup_cache(self):
        from tokfrag import device_parity

        return device_parity.failures(common.PIPELINE_NAMES, common.DEVICES)

    def setup(self, checked, pipeline, device):
        if isinstance(checked[device], str):
            raise NotImplementedError(checked[device])

    def track_device_parity(self, checked, pipeline, device):
        """Checks of the device against the CPU that failed for this pipeline (0: the same network):
        preprocessing, logits, loss and gradients (tokfrag.device_parity)."""
        result = checked[device][pipeline]
        if isinstance(result, str):
            raise RuntimeError(f"the device parity checks of {pipeline} on {device} raised {result}")
        for row in result["rows"]:
            print(f"{row['check']:24s} {row['max_diff']!s:>12s}  {row['tolerance']:24s} {row['status']}",
                  file=sys.stderr)  # asv --show-stderr: the rows land in the run's log
        return result["failed"]

    track_device_parity.unit = "failed checks"
