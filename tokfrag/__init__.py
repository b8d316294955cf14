"""tokfrag: token vs spatiotemporal-fragment pipelines, PyTorch vs TensorFlow, timed by asv."""

__version__ = "0.1.0"
