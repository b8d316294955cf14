"""The pipeline-name grammar, parsed and formatted in one place.

``<dataset>/<representation>[@<variant>][+<backbone>][~<scale point>]``: ``mnist/token``,
``mnist/fragment@article+cnn``, ``video/token+cnn~data=4``. The backbone part is absent for the
default backbone (``backbones.DEFAULT``); the scale part is absent for the pipeline as registered.
Whether the parts name something that exists is the spec's business (``spec.get_pipeline``); this
module only reads and writes the names.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .backbones import DEFAULT


@dataclass(frozen=True)
class PipelineName:
    dataset: str
    representation: str
    variant: str = ""
    backbone: str = DEFAULT
    scale: str = ""

    @classmethod
    def parse(cls, name: str) -> "PipelineName":
        rest, _, scale = name.partition("~")
        rest, _, backbone = rest.partition("+")
        dataset, _, rest = rest.partition("/")
        representation, _, variant = rest.partition("@")
        return cls(dataset, representation, variant, backbone or DEFAULT, scale)

    def __str__(self) -> str:
        name = f"{self.dataset}/{self.representation}"
        name += f"@{self.variant}" if self.variant else ""
        name += f"+{self.backbone}" if self.backbone != DEFAULT else ""
        return name + (f"~{self.scale}" if self.scale else "")

    @property
    def base(self) -> str:
        """Without the backbone and the scale point: the pipeline whose data and preprocessing it shares."""
        return str(replace(self, backbone=DEFAULT, scale=""))

    @property
    def family(self) -> str:
        """Without the scale point: ``<dataset>/<representation>[@variant][+backbone]``."""
        return str(replace(self, scale=""))

    def replace(self, **changes) -> "PipelineName":
        return replace(self, **changes)


def pipeline_name(pipeline: str, backbone: str = DEFAULT, scale: str = "") -> str:
    """A registered pipeline's name under ``backbone`` at ``scale``: ``pipeline_name("mnist/token", "cnn")``
    is ``mnist/token+cnn`` (the parameters of the asv suites and the leaderboard's rows)."""
    return str(PipelineName.parse(pipeline).replace(backbone=backbone, scale=scale))
