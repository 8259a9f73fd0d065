#!/usr/bin/env bash
# Train several paper-table rows at once on a lent GPU machine, one process per row, and
# pack each run (best.pt, metrics, scores, log) into $OUT for the trip back.
#
#   MINUTES=6.5 DEADLINE_S=540 [EPOCHS=200] bash benchmarks/gpu_paper_rows.sh \
#       "cluttered60 6 paper" "cluttered60 6 lstm-b512" ...
#
# Each argument is "TASK GLIMPSES VARIANT [MINUTES]" (see benchmarks/paper_tables.py); a
# row's own MINUTES overrides $MINUTES. A run folder carried in runs/gpu/ with a last.pt is
# resumed, so a longer MINUTES extends an earlier run (its cosine LR restarts part-way). The machine
# has no network: Python packages it lacks travel as wheels in .whl/, MNIST as IDX files in
# .devdata/mnist/ (both git-ignored; the device tool carries them). Make both here first,
# with the project's venv active: `bash benchmarks/gpu_paper_rows.sh --prepare`.
# Whatever state the rows are in at DEADLINE_S seconds is packed, so a slow row never costs
# the others' results. Each row's env gets $(nproc) / rows threads unless RAM_ENV_THREADS is set.
# Each row is a process group of its own (paper_tables.py and the train.py it runs): at the
# deadline, or when this script is stopped, every row's group gets SIGTERM (train.py stops
# cleanly and saves, paper_tables.py then writes its report and ends) and GRACE_S whole
# seconds (default 20) to end before SIGKILL; nothing this script did not start is signalled.
set -u

if [[ ${1:-} == --prepare ]]; then
    pkgs=$(python -m pip list --format=freeze 2>/dev/null |
        grep -iE '^(gymnasium|farama-notifications|stable.baselines3|sb3.contrib)==')
    [[ -n $pkgs ]] || { echo "activate the project's venv first" >&2; exit 1; }
    python -m pip download -q --no-deps -d .whl $pkgs || exit 1
    python -m ram_env.data export .devdata/mnist || exit 1
    ls -la .whl .devdata/mnist
    exit 0
fi
(( $# )) || { echo "give at least one row: \"TASK GLIMPSES VARIANT\"" >&2; exit 2; }
MINUTES=${MINUTES:-6.5}
EPOCHS=${EPOCHS:-200}  # paper_tables' epoch cap: raise it for long rows (a fast row hits it)
DEADLINE_S=${DEADLINE_S:-540}
GRACE_S=${GRACE_S:-20}
DEVICE=${DEVICE:-cuda}
OUT=${OUT:-/tmp/gpu-rows-out}
RUNS=runs/gpu
start=$SECONDS
mkdir -p "$OUT" "$RUNS"

source "$(dirname "$0")/gpu_machine_setup.sh"
source "$(dirname "$0")/process_groups.sh"

# Build the fixed validation/test canvases once, before the rows race for them.
python3 - <<'EOF' || exit 1
import gymnasium
import ram_env  # noqa: F401
for env_id in ("GlimpseTranslatedMNIST-v0", "GlimpseClutteredMNIST-v0", "GlimpseClutteredMNIST100-v0"):
    for split in ("validation", "test"):
        gymnasium.make(env_id, split=split).reset(seed=0)
EOF

# A few updates and an evaluation on the device first: fail in seconds, not at the deadline.
rm -rf /tmp/smoke
python3 train.py --algo reinforce --env GlimpseClutteredMNIST-v0 --device "$DEVICE" \
    --max-images 2048 --epochs 1 --out /tmp/smoke --no-progress --threads 1 || exit 1
python3 train.py --eval /tmp/smoke/best.pt --split validation --device "$DEVICE" || exit 1
echo "setup took $((SECONDS - start)) s"

# Each row's env may split its batches over threads: give every row its share of the cores
# (its torch runs on the GPU with one thread).
export RAM_ENV_THREADS=${RAM_ENV_THREADS:-$(( $(nproc) / $# > 1 ? $(nproc) / $# : 1 ))}
echo "rows: $#, env threads per row: $RAM_ENV_THREADS"
stop_groups_on_signals "$GRACE_S"  # stopped from outside: stop the rows as at the deadline
for spec in "$@"; do
    read -r task glimpses variant minutes <<<"$spec"
    start_group python3 benchmarks/paper_tables.py --only "$task" --glimpses "$glimpses" \
        --random exclude --variant "$variant" --device "$DEVICE" \
        --minutes "${minutes:-$MINUTES}" --epochs "$EPOCHS" --threads 1 --runs-dir "$RUNS" \
        --out "$RUNS/report/results.md" >"$RUNS/$task-g$glimpses-$variant.out" 2>&1
done
sampled=0
# A row runs while any process of its group does (paper_tables.py or its train.py); poll
# each second, so that the deadline is kept to the second.
while (( SECONDS - start < DEADLINE_S )) && groups_running; do
    if (( !sampled && SECONDS - start > 150 )); then  # is the GPU the bottleneck?
        nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader 2>/dev/null
        uptime
        sampled=1
    fi
    sleep 1
done
if groups_running; then  # out of time: stop the trainings cleanly (they save), then pack
    stop_groups "$GRACE_S"
fi
echo "rows ran for $((SECONDS - start)) s in all"

# One tar per run, within what the tool brings back (see pack_gpu_runs.sh): best.pt (what the
# report scores and plots), last.pt (so the run can be extended here or on a later machine
# with --resume), metrics, scores, the run's log and every row's output.
bash benchmarks/pack_gpu_runs.sh "$RUNS" "$OUT"
grep -h "test error" "$RUNS"/*.out  # each row's score line from paper_tables.py
