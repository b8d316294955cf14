#!/usr/bin/env bash
# Regression gate: benchmark BASE and the working tree in the current environment, compare them,
# and exit with tokfrag compare's code: 0 no regression, 1 regression, 2 failed / missing / not comparable.
#
#   docs/ci/regression-gate.sh [BASE]        BASE: any git revision (default: origin/main)
#
# Environment (all optional):
#   GATE_BENCH    asv -b regexes, one per line (they may contain spaces, as asv's parameter
#                 syntax does: Step\.time_train_step\('pytorch', 'mnist/token', 'cpu'\)); default:
#                 the CPU step timings, peak memory and training metrics of every pipeline and framework
#   GATE_FACTOR   ratio that counts as a change (default 1.30: shared CI runners, see README.md)
#   GATE_ROUNDS   BASE/HEAD alternations whose samples are merged (default 3)
#   GATE_CPU      the core to pin the benchmark to with taskset (default: the last one)
#   GATE_SMOKE    1 (default): one training epoch for the training metrics; 0: the full budget
#   VENV          the virtual environment (default .venv); SKIP_SETUP=1 skips `make setup`
#   GATE_WORKDIR  where the BASE worktree and both sides' results go (default: a new folder
#                 tokfrag-gate.XXXXXX in $RUNNER_TEMP or /tmp); the committed results/ is never touched
#   TOKFRAG_THREADS  framework threads (default 1, matching the one pinned core)
# Writes html/ (asv publish of both sides' results) with html/gate-report.txt (the comparison).
set -uo pipefail
cd "$(dirname "$0")/../.."

BASE=${1:-origin/main}
VENV=${VENV:-.venv}
PY=$VENV/bin/python
GATE_BENCH=${GATE_BENCH:-"Step\.time_.*'cpu'\)
Training\.track_.*'cpu'\)"}
GATE_FACTOR=${GATE_FACTOR:-1.30}
GATE_ROUNDS=${GATE_ROUNDS:-3}
GATE_SMOKE=${GATE_SMOKE:-1}
export TOKFRAG_THREADS=${TOKFRAG_THREADS:-1}
export PYTHONUNBUFFERED=1 KERAS_BACKEND=tensorflow

if [ "${SKIP_SETUP:-0}" != 1 ]; then
    make setup || exit 2
fi
git rev-parse --verify --quiet "$BASE^{commit}" >/dev/null || {
    echo "regression-gate: $BASE is not a commit here; fetch it first (git fetch origin, or checkout with fetch-depth: 0)" >&2
    exit 2
}
"$PY" -m tokfrag.cli prepare || exit 2

pin=()
if command -v taskset >/dev/null; then
    GATE_CPU=${GATE_CPU:-$(( $(nproc) - 1 ))}
    pin=(taskset -c "$GATE_CPU")
    echo "regression-gate: pinned to core $GATE_CPU, $TOKFRAG_THREADS framework thread(s)"
else
    echo "regression-gate: taskset not found: running unpinned (expect more noise)"
fi

GATE_WORKDIR=${GATE_WORKDIR:-$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/tokfrag-gate.XXXXXX")}
args=("$BASE" --rounds "$GATE_ROUNDS" --factor "$GATE_FACTOR" --html html --workdir "$GATE_WORKDIR")
[ "$GATE_SMOKE" = 1 ] && args+=(--smoke)
while IFS= read -r regex; do
    [ -n "$regex" ] && args+=(-b "$regex")
done <<< "$GATE_BENCH"
mkdir -p "$GATE_WORKDIR"

# once tokfrag/cli.py is wired, the same is: tokfrag bench --against "$BASE" ...
"${pin[@]}" "$PY" -m tokfrag.continuous "${args[@]}" 2>&1 | tee "$GATE_WORKDIR/gate-report.txt"
rc=${PIPESTATUS[0]}
mkdir -p html && cp "$GATE_WORKDIR/gate-report.txt" html/  # after asv publish, which rebuilds html/
case $rc in
    0) echo "regression-gate: no regression" ;;
    1) echo "regression-gate: REGRESSION (see html/gate-report.txt)" ;;
    *) echo "regression-gate: a benchmark failed, is missing or cannot be compared (exit $rc)" ;;
esac
exit "$rc"
