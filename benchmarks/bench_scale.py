"""The scale axes: each default pipeline at other training-set sizes, widths and budgets.

Parameters: framework x pipeline x backbone x scale x device x seed, where ``scale`` is a point of
``tokfrag.spec.SCALE_GRID`` ("default", "data=1/8", "width=128", "budget=4", ...; ``spec.at_scale``
says what each changes). A point outside its dataset's grid is skipped. Every run keeps its learning
curve (``tokfrag.curves``: accuracy, loss, seconds and training FLOPs at 8 evenly spaced steps) in
``results/<machine>/curves-<commit>.jsonl``; asv tracks the final accuracy.

Not in the default run: ``make bench-scale`` runs the grid in parts (``tokfrag bench --scale
DATASET:BACKBONE``, each under an hour on 2 cores), in PyTorch, with TensorFlow on a cross-check
subset (``spec.SCALE_CROSS_CHECK``). Plain ``asv run`` would walk every combination of the cross
product, most of them skipped: select with ``-b`` as ``tokfrag bench --scale`` does.
"""

from __future__ import annotations

from tokfrag.backbones import names
from tokfrag.names import PipelineName, pipeline_name
from tokfrag.spec import PIPELINES, SCALE_GRID, scale_points

from . import common

PIPELINES_AT_SCALE = [p for p in PIPELINES if PipelineName.parse(p).dataset in SCALE_GRID]
BACKBONES = list(names())  # every registered backbone (tokfrag.backbones)


def name(pipeline: str, backbone: str, scale: str) -> str:
    return pipeline_name(pipeline, backbone, scale)


def check_point(pipeline: str, scale: str) -> None:
    """NotImplementedError (asv: skipped) for a point outside the pipeline's dataset's grid."""
    dataset = PipelineName.parse(pipeline).dataset
    if scale != "default" and scale not in SCALE_GRID[dataset]:
        raise NotImplementedError(f"{scale} is not in the {dataset} grid")


class Training:
    """One training run per combination and seed at a scale point: its final test accuracy (the curve
    goes to the side file)."""

    params = (common.FRAMEWORKS, PIPELINES_AT_SCALE, BACKBONES, scale_points(), common.DEVICES,
              common.SEEDS)
    param_names = ["framework", "pipeline", "backbone", "scale", "device", "seed"]
    timeout = 3600  # the first combination trains every seed; video at budget=4 is the longest

    def setup(self, framework, pipeline, backbone, scale, device, seed):
        check_point(pipeline, scale)
        self.result = common.training_result(framework, name(pipeline, backbone, scale), device, seed=seed)

    def track_accuracy(self, framework, pipeline, backbone, scale, device, seed):
        """Test accuracy at the end of the scale point's budget."""
        return self.result["accuracy"]

    track_accuracy.unit = "%"


class Size:
    """What a scale point costs, from the spec: parameters and training FLOPs of one run."""

    params = (PIPELINES_AT_SCALE, BACKBONES, scale_points())
    param_names = ["pipeline", "backbone", "scale"]

    def setup(self, pipeline, backbone, scale):
        from tokfrag.catalog import get_pipeline

        check_point(pipeline, scale)
        self.spec = get_pipeline(name(pipeline, backbone, scale))

    def track_params(self, pipeline, backbone, scale):
        from tokfrag import params

        return params.count(self.spec)

    track_params.unit = "parameters"

    def track_train_flops(self, pipeline, backbone, scale):
        """Training FLOPs of one run (forward + backward, analytic: tokfrag.flops)."""
        from tokfrag import flops
        from tokfrag.spec import TEMPLATE_TRAIN

        t = self.spec.train
        return flops.train_per_sample(self.spec) * t.total_steps(TEMPLATE_TRAIN[self.spec.dataset.name]) \
            * t.batch_size

    track_train_flops.unit = "FLOPs"
