# tokfrag: the README's two commands live here.
#   make bench   set up, prepare the data, run the benchmark on this machine, publish
#   make test    set up and run the tests
# Everything installs into $(VENV) from pyproject.toml, pinned by constraints.txt.

PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
TOKFRAG := $(VENV)/bin/tokfrag
EXTRAS ?= all
WEB_ASSETS := web/node_modules/.installed
PIP := $(PY) -m pip install --disable-pip-version-check -c constraints.txt

.PHONY: setup data bench bench-quick bench-perf bench-backbones bench-workers bench-scale bench-full test-fast test parity calibrate publish serve clean help gpu-wheels gpu-rehearsal test-py312

help:
	@echo "make bench   set up, prepare data, run the asv benchmark here (SEEDS=3 training seeds), results in results/<machine>/"
	@echo "make test    set up and run the tests (what CI runs)"
	@echo "make test-fast  the fast tier: no slow or browser tests, one pipeline's parity (before make test)"
	@echo "make bench-perf  the performance subset: compiled steps, bf16, MFU, peak, cost scaling (~40 min on 2 cores)"
	@echo "make bench-backbones  every pipeline under all four backbones, 3 seeds (~2 h 10 min on 2 cores)"
	@echo "make bench-scale  the scale grid: data, width and budget points with learning curves, 3 seeds (hours: see docs/scale.md)"
	@echo "make bench-workers  every default pipeline on 1 and 2 data-parallel workers (DDP, tf.distribute)"
	@echo "make bench-full  everything, bench_perf in full (every pipeline x mode x precision): hours on 2 cores"
	@echo "make parity  check PyTorch/TensorFlow equivalence for every pipeline"
	@echo "make calibrate  harness overhead vs a bare training loop, per framework and pipeline"
	@echo "make publish rebuild html/ (asv's graphs + html/leaderboard.html) from results/"
	@echo "make serve   serve html/ on http://127.0.0.1:8080 (this machine only)"
	@echo "make setup   only create $(VENV) and install tokfrag with its pinned dependencies"
	@echo "make gpu-wheels  fill .gpu-carry/ for a lent GPU machine (wheels for Python 3.12, data, commit); says its size"
	@echo "make gpu-rehearsal  the lent GPU machine's run, rehearsed on this CPU in a clean Python 3.12 venv, offline"
	@echo "make test-py312  the fast tier (pytest --fast) under Python 3.12, in $(VENV312)"

setup: $(VENV)/.installed $(WEB_ASSETS)

# asv's pages load jQuery, flot and Bootstrap from CDNs; these local copies (exact versions,
# tarballs verified by the lock file's integrity hashes) make html/ work offline.
$(WEB_ASSETS): web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "npm not found: install Node.js and npm (Debian: apt-get install npm); asv's pages need their scripts from the npm registry"; exit 1; }
	npm ci --prefix web --ignore-scripts --no-audit --no-fund
	touch $@

$(VENV)/.installed: pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found: install Python 3.11 or run 'make PYTHON=/path/to/python3.11 ...'"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	@# torch first, alone: the pinned wheel (a CUDA build that also runs on CPU) carries its own CUDA libraries
	$(PIP) torch==2.14.1
	$(PIP) -e '.[$(EXTRAS)]'
	touch $@

data: setup
	$(TOKFRAG) prepare

# SEEDS: training seeds per combination (3 by default: the fewest that give an interval)
SEEDS ?= 3

bench: data
	$(TOKFRAG) bench --seeds $(SEEDS)
	$(TOKFRAG) publish

bench-quick: data
	$(TOKFRAG) bench --quick
	$(TOKFRAG) publish

bench-perf: data
	$(TOKFRAG) bench --perf
	$(TOKFRAG) publish

# the backbone axis (cnn, lstm, gnn beside the transformer), SEEDS seeds: about 2 h 10 min on 2 cores with 3
# (measured on vm-863373; the README shows how to add only cnn, lstm and gnn to a default run)
bench-backbones: data
	$(TOKFRAG) bench --seeds $(SEEDS) -b '^bench_backbones\.'
	$(TOKFRAG) publish

# the workers axis: 1 and 2 data-parallel workers (PyTorch DDP, TensorFlow MultiWorkerMirroredStrategy)
bench-workers: data
	$(TOKFRAG) bench -b '^bench_workers\.'
	$(TOKFRAG) publish

bench-full: data
	$(TOKFRAG) bench --full
	$(TOKFRAG) publish

calibrate: data
	$(TOKFRAG) calibrate

publish: setup
	$(TOKFRAG) publish

serve: setup
	$(TOKFRAG) serve

parity: data
	$(TOKFRAG) parity

test: setup
	$(VENV)/bin/ruff check .
	$(PY) -m pytest

# the fast tier: no slow or browser tests, one pipeline's parity in both frameworks (tests/conftest.py);
# for a small change before `make test`, which CI runs
test-fast: setup
	$(VENV)/bin/ruff check .
	$(PY) -m pytest --fast -q

clean:
	rm -rf html .asv datasets/cache web/node_modules

# The scale grid (bench_scale: data, width and budget points, 3 seeds, transformer and cnn, learning
# curves): one `tokfrag bench --scale DATASET[:BACKBONE[:AXIS]]` per part, adding to the same commit's
# results; then publish. Measured on vm-b76e94 (2-core AMD EPYC, AVX2; each part on one core while the
# other did other work): video:cnn 76 min, video:transformer about 2 h (its budget=4 runs alone ~50 min),
# text:cnn 70 min, mnist:transformer 74 min, mnist:cnn 37 min (docs/scale.md), so the parts go by axis:
# each under an hour. SCALE_PARTS selects parts (e.g. SCALE_PARTS=video:cnn, one dataset and backbone).
SCALE_PARTS ?= $(foreach d,video text mnist,$(foreach b,transformer cnn,$(foreach a,data width budget,$(d):$(b):$(a))))

bench-scale: data
	@for part in $(SCALE_PARTS); do echo "== scale part $$part"; $(TOKFRAG) bench --seeds $(SEEDS) --scale $$part || exit 1; done
	$(TOKFRAG) publish

# The lent GPU machines (README, "On a GPU"): Python 3.12 with CUDA PyTorch, no network, 64 MiB a call.
# Here: fill .gpu-carry/ with the wheels they lack (gpu/wheels.txt, for Python 3.12 x86-64), the prepared
# data (a few MB) and the commit, and print the carry's size. There: `python3 gpu/run.py` (carry .gpu-carry).
gpu-wheels: data
	$(PY) gpu/carry.py

# The same run rehearsed here: a clean Python 3.12 venv holding only what the lent machines hold
# (gpu/lent.txt; .gpu-rehearsal/venv, made once: PyTorch with CUDA, a few GB), a copy of what travels, no
# network, `python3 gpu/run.py --device cpu --smoke`; fails unless it writes results of every phase.
gpu-rehearsal: gpu-wheels
	PYTHON312=$(PYTHON312) $(PY) gpu/rehearse.py

# The fast tier (pytest --fast, as make test-fast) under Python 3.12: a venv of its own, the same pins.
# The first candidate that runs as 3.12 (a pyenv shim is on PATH but fails where no 3.12 is selected).
PYTHON312 ?= $(shell for c in $$(command -v python3.12) $$HOME/.pyenv/versions/3.12*/bin/python3.12; do \
	$$c -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' 2>/dev/null && { echo $$c; break; }; done)
VENV312 ?= .venv-py312

test-py312:
	$(MAKE) $(VENV312)/.installed PYTHON=$(PYTHON312) VENV=$(VENV312)
	$(VENV312)/bin/python -m pytest --fast -q
