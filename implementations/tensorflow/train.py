"""The TensorFlow Trainer: tensors, one AdamW step, inference and memory, on one device.

What every framework shares (argument checks, codebook set-up, dispatch by preprocessing,
chunked inference) is ``tokfrag.trainer.Trainer``; this file holds what is TensorFlow's own.
``default`` mode is TensorFlow's idiomatic path, ``tf.function`` graphs; ``compiled`` adds XLA
(jit_compile).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tokfrag import trainer
from tokfrag.frameworks import DeviceUnavailable
from tokfrag.spec import MODES, PRECISIONS, PipelineSpec  # noqa: F401 (MODES, PRECISIONS: the contract's)

from . import preprocess
from .model import TokFragEncoder, load_parameters, named_parameters, variables

OOM_ERRORS = (tf.errors.ResourceExhaustedError,)


class AdamW(keras.optimizers.AdamW):
    """Keras AdamW with PyTorch's (and the AdamW paper's) placement of epsilon.

    Keras divides by ``sqrt(v) + eps`` and folds the bias corrections into the rate; torch
    divides by ``sqrt(v / (1 - beta2**t)) + eps``. The two differ wherever ``|g|`` is near
    ``eps / sqrt(1 - beta2**t)`` (3e-7 at the first step), which flips early updates of
    near-zero gradients (attention weights at initialisation) and lets the frameworks'
    trajectories drift apart. The spec follows torch; this class is the one line of Keras
    that had to change for that.
    """

    def update_step(self, gradient, variable, learning_rate):
        from keras import ops

        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        gradient = ops.cast(gradient, dtype)
        step = ops.cast(self.iterations + 1, dtype)
        bias1 = 1 - ops.power(ops.cast(self.beta_1, dtype), step)
        bias2 = 1 - ops.power(ops.cast(self.beta_2, dtype), step)
        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - self.beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - self.beta_2))
        denom = ops.add(ops.divide(ops.sqrt(v), ops.sqrt(bias2)), self.epsilon)
        self.assign_sub(variable, ops.divide(ops.multiply(m, lr / bias1), denom))


def select_device(device: str) -> str:
    if device == "cpu":
        return "/CPU:0"
    if device == "gpu":
        if not tf.config.list_physical_devices("GPU"):
            raise DeviceUnavailable("no GPU: tf.config.list_physical_devices('GPU') is empty")
        return "/GPU:0"
    raise ValueError(f"unknown device {device!r}; valid devices: cpu, gpu")


class Trainer(trainer.Trainer):
    framework = "tensorflow"
    ops = preprocess

    def open_device(self, device: str) -> str:
        return select_device(device)

    def on_device(self):
        # several workers: variables (model, optimizer) mirrored by the strategy on every worker
        return self.group.handle.scope() if self.group is not None else tf.device(self.device)

    def build_model(self) -> TokFragEncoder:
        spec = self.spec
        # bf16: Keras "mixed_bfloat16" (compute in bfloat16, variables float32)
        model = TokFragEncoder(spec, dtype="mixed_bfloat16" if self.precision == "bf16" else "float32")
        if spec.representation == "fragment":
            dummy = tf.zeros((1, spec.seq_len, spec.input_dim), tf.float32)
        else:
            dummy = tf.zeros((1, spec.seq_len), tf.int64)
        model(dummy)  # build every layer
        return model

    def build_optimizer(self) -> AdamW:
        t = self.spec.train
        optimizer = AdamW(learning_rate=t.lr, weight_decay=t.weight_decay, beta_1=t.betas[0], beta_2=t.betas[1],
                          epsilon=t.eps)
        optimizer.exclude_from_weight_decay(
            var_list=[v for n, (v, _) in variables(self.model).items() if not self.decays(n)])
        optimizer.build(self.model.trainable_variables)
        return optimizer

    def compile(self) -> None:
        jit = self.mode == "compiled"
        self._step = tf.function(self._train_step if self.group is None else self._worker_step, jit_compile=jit,
                                 reduce_retracing=True)
        self._forward = tf.function(lambda x: self.model(x, training=False), jit_compile=jit, reduce_retracing=True)
        self._grads = tf.function(self._gradients, reduce_retracing=True)
        self._preprocess = tf.function(self.units, reduce_retracing=True)

    # --- data -------------------------------------------------------------------------
    def byte_fragments(self, texts: tf.Tensor) -> tf.Tensor:
        return preprocess.byte_fragments(texts, self.spec.windows, self.spec.dataset.signal_shape[0])

    def word_ids(self, texts: tf.Tensor) -> tf.Tensor:
        return self.codebook(texts)

    def preprocessing_scope(self):
        return tf.device(self.device)

    def preprocess(self, x: tf.Tensor) -> tf.Tensor:
        with tf.device(self.device):
            return self._preprocess(x)

    def upload(self, x: np.ndarray) -> tf.Tensor:
        """Samples to the device (texts as a string tensor)."""
        if self.spec.dataset.kind == "text":
            return tf.constant([str(t) for t in x])
        with tf.device(self.device):
            return tf.identity(tf.constant(x))

    def tensor(self, x: np.ndarray) -> tf.Tensor:
        with tf.device(self.device):
            return tf.identity(tf.constant(x))

    def labels(self, y: np.ndarray) -> tf.Tensor:
        with tf.device(self.device):
            return tf.constant(np.asarray(y, np.int64))

    def take(self, t: tf.Tensor, idx: np.ndarray) -> tf.Tensor:
        with tf.device(self.device):
            return tf.gather(t, idx)

    def concat(self, parts: list) -> tf.Tensor:
        return tf.concat(parts, axis=0)

    # --- compute ----------------------------------------------------------------------
    def _loss(self, x, y):
        logits = tf.cast(self.model(x, training=True), tf.float32)
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))

    def _descend(self, loss_of):
        """One AdamW update down the gradient of ``loss_of()``; returns that loss."""
        with tf.GradientTape() as tape:
            loss = loss_of()
        # Dense gradients: Keras would apply an Embedding's sparse (IndexedSlices) gradient
        # lazily, to the looked-up rows only, while torch's AdamW updates every row.
        grads = [tf.convert_to_tensor(g) for g in tape.gradient(loss, self.model.trainable_variables)]
        self.optimizer.apply_gradients(zip(grads, self.model.trainable_variables))
        return loss

    def _train_step(self, x, y):
        return self._descend(lambda: self._loss(x, y))

    def _worker_step(self, x, y):
        """One worker's step under MultiWorkerMirroredStrategy: its shard's summed loss over the
        global batch, whose gradients Keras' optimizer sums over the workers (an all-reduce of the
        strategy's collectives): the gradient of the global batch's mean loss. Returns that loss."""
        size = self.group.size

        def replica(x, y):
            def shard_loss():
                logits = tf.cast(self.model(x, training=True), tf.float32)
                per_sample = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
                return tf.reduce_sum(per_sample) / tf.cast(tf.shape(y)[0] * size, tf.float32)

            return self._descend(shard_loss)

        strategy = self.group.handle
        return strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(replica, args=(x, y)), axis=None)

    def train_step(self, x: tf.Tensor, y: tf.Tensor, lr: float) -> tf.Tensor:
        with self.on_device():  # the strategy's scope on several workers, else the device
            self.optimizer.learning_rate.assign(lr)
            return self._step(x, y)

    def logits(self, x: tf.Tensor) -> tf.Tensor:
        with tf.device(self.device):
            return tf.cast(self._forward(x), tf.float32)

    def argmax(self, logits: tf.Tensor) -> np.ndarray:
        return np.argmax(logits.numpy(), -1)

    def sync(self, value=None) -> float | None:
        if value is not None:
            return float(value.numpy())  # .numpy() waits for the value
        if self.device.startswith("/GPU"):
            tf.test.experimental.sync_devices()
        return None

    # --- parameters (for parity) ------------------------------------------------------
    def parameters(self) -> dict[str, np.ndarray]:
        return named_parameters(self.model)

    def load(self, values: dict[str, np.ndarray]) -> None:
        load_parameters(self.model, values)

    def _gradients(self, x, y):
        with tf.GradientTape() as tape:
            loss = self._loss(x, y)
        return loss, tape.gradient(loss, self.model.trainable_variables)

    def gradients(self, x: tf.Tensor, y: tf.Tensor) -> tuple[float, dict[str, np.ndarray]]:
        with tf.device(self.device):
            loss, grads = self._grads(x, y)
        by_var = {id(v): g for v, g in zip(self.model.trainable_variables, grads)}
        out = {}
        for name, (var, layout) in variables(self.model).items():
            g = np.asarray(tf.convert_to_tensor(by_var[id(var)]).numpy(), np.float32)  # Embedding: IndexedSlices
            out[name] = np.array(layout.to_canonical(g), np.float32)
        return float(loss.numpy()), out

    # --- device memory ----------------------------------------------------------------
    def reset_peak_memory(self) -> None:
        if self.device.startswith("/GPU"):
            tf.config.experimental.reset_memory_stats("GPU:0")

    def peak_memory(self) -> int | None:
        if self.device.startswith("/GPU"):
            return int(tf.config.experimental.get_memory_info("GPU:0")["peak"])
        return None


def join_workers(rank: int, size: int, local_rank: int, device: str) -> tf.distribute.Strategy:
    """MultiWorkerMirroredStrategy from TF_CONFIG: ring all-reduce (gRPC) on CPU, NCCL on GPU. Created
    before any TensorFlow operation runs, as the strategy requires."""
    impl = tf.distribute.experimental.CommunicationImplementation
    options = tf.distribute.experimental.CommunicationOptions(
        implementation=impl.NCCL if device == "gpu" else impl.RING)
    return tf.distribute.MultiWorkerMirroredStrategy(communication_options=options)


def leave_workers(group) -> None:
    """Nothing to close: the strategy's servers end with the process."""


def bare_step(spec: PipelineSpec, batch_size: int, device: str = "cpu"):
    """The model's plain AdamW step on synthetic tensors, and how to wait for its loss
    (``tokfrag.trainer.Framework.bare_step``)."""
    with tf.device(select_device(device)):
        model = TokFragEncoder(spec)
        if spec.representation == "fragment":
            x = tf.random.uniform((batch_size, spec.seq_len, spec.input_dim))
        else:
            x = tf.random.uniform((batch_size, spec.seq_len), 0, spec.input_dim, dtype=tf.int64)
        y = tf.random.uniform((batch_size,), 0, spec.dataset.num_classes, dtype=tf.int64)
        model(x)
        opt = keras.optimizers.AdamW(learning_rate=spec.train.lr, weight_decay=spec.train.weight_decay)

        @tf.function
        def graph_step():
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, model(x, training=True)))
            grads = tape.gradient(loss, model.trainable_variables)
            opt.apply_gradients(zip(grads, model.trainable_variables))
            return loss

    def step():
        with tf.device(select_device(device)):
            return graph_step()

    return step, lambda loss: loss.numpy()


def matmul_peak(device: str = "cpu", precision: str = "fp32", n: int = 2048, seconds: float = 1.0) -> float:
    """FLOP/s of repeated square matmuls, up to n x n: the probe of the machine's peak for MFU."""
    from tokfrag.flops import probe_peak

    dtype = tf.bfloat16 if precision == "bf16" else tf.float32

    def matmul_at(size: int):
        with tf.device(select_device(device)):
            a = tf.cast(tf.random.normal((size, size)), dtype)
            b = tf.cast(tf.random.normal((size, size)), dtype)
            mm = tf.function(lambda: tf.reduce_sum(tf.cast(tf.matmul(a, b)[:1, :1], tf.float32)))
        return lambda: mm().numpy()

    return probe_peak(matmul_at, n, seconds)


def versions() -> dict[str, str]:
    out = {"tensorflow": tf.__version__, "keras": keras.__version__}
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        out["gpu"] = details.get("device_name", "GPU")
        out["cuda"] = tf.sysconfig.get_build_info().get("cuda_version", "")
    return out
