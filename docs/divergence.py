"""Where two frameworks' training runs separate: the loss of every step, side by side.

    .venv/bin/python docs/divergence.py mnist/fragment width=32 2 120

trains PIPELINE at a scale POINT ("default" for none) with SEED for STEPS steps in PyTorch and in
TensorFlow, with the same initial weights, batches, shifts and learning rates as ``tokfrag.training``,
and prints both losses and their difference at every step. `tokfrag parity` proves the first 20 steps
equal within tolerance; this shows what happens after them (docs/scale.md, "What the cross-check shows").
"""

import argparse

import numpy as np

from tokfrag import spec as S
from tokfrag import training as T
from tokfrag.augment import shift


def losses(framework: str, sp, n_steps: int) -> np.ndarray:
    trainer, prepared = T.make_trainer(framework, sp)
    t = sp.train
    x, y = prepared.training_split(t.data_scale, t.seed)
    labels, n = trainer.labels(y), len(y)
    b, per_epoch, total = min(t.batch_size, n), t.steps_per_epoch(n), t.total_steps(n)
    out, epoch = [], 0
    while len(out) < n_steps:
        order, rng = T.batch_order(t.seed, epoch, n), T.augment_rng(t.seed, epoch)
        for i in range(min(per_epoch, n_steps - len(out))):
            idx = order[i * b:(i + 1) * b]
            xb = trainer.preprocess(trainer.upload(shift(x[idx], rng, t.max_shift)))
            loss = trainer.train_step(xb, trainer.take(labels, idx), t.lr_at(len(out), total))
            out.append(float(trainer.sync(loss)))
        epoch += 1
    return np.array(out)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("pipeline")
    p.add_argument("point", help='a scale point (width=32, budget=1/2, ...) or "default"')
    p.add_argument("seed", type=int)
    p.add_argument("steps", type=int)
    a = p.parse_args()
    sp = S.with_overrides(S.get_pipeline(a.pipeline), seed=a.seed)
    sp = sp if a.point == "default" else S.at_scale(sp, a.point)
    pt, tf = losses("pytorch", sp, a.steps), losses("tensorflow", sp, a.steps)
    print("step  pytorch    tensorflow |difference|")
    for k in range(a.steps):
        print(f"{k:4d}  {pt[k]:.6f}  {tf[k]:.6f}  {abs(pt[k] - tf[k]):.2e}")


if __name__ == "__main__":
    main()
