"""One folder per framework, with identical file, class and layer names.

Nothing in here is run as a script: `python implementations/tensorflow/x.py` would put that
folder on sys.path and shadow the real `tensorflow`. Use the `tokfrag` CLI, asv or pytest.
"""
