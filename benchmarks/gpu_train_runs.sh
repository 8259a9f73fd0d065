#!/usr/bin/env bash
# Train several `train.py --algo reinforce` runs at once on a lent GPU machine (an A/B sweep
# of settings over seeds), score each best.pt on the test split (one mean path and --mc 10)
# and bring back one tar of every run's metrics, scores, log and best.pt.
#
#   MINUTES=7 DEADLINE_S=520 bash benchmarks/gpu_train_runs.sh \
#       "base-s0 --seed 0" "wd0.1-s0 --weight-decay 0.1 --seed 0" ...
#
# Each argument is "NAME [TRAIN.PY FLAGS...]"; every run also gets --device cuda, --threads 1,
# --train-minutes $MINUTES and $COMMON (default: nothing, so train.py's defaults apply,
# --epochs 200 included: a run stops at whichever of the two ends first, and its cosine LR
# decays over that). Runs sharing one GPU go at the same pace, so equal minutes mean about
# equal images for settings of equal cost; compare only such runs. Prepare the wheels and
# MNIST first, as for gpu_paper_rows.sh: `bash benchmarks/gpu_paper_rows.sh --prepare`.
# At DEADLINE_S seconds the runs still training get SIGTERM (they stop cleanly and save) and
# GRACE_S whole seconds (default 15) to end before SIGKILL. Each run is a process group of
# its own, and only those groups are signalled, also when the script itself is stopped.
set -u
(( $# )) || { echo "give at least one run: \"NAME [FLAGS...]\"" >&2; exit 2; }
MINUTES=${MINUTES:-7}
DEADLINE_S=${DEADLINE_S:-520}
GRACE_S=${GRACE_S:-15}
COMMON=${COMMON:-}
DEVICE=${DEVICE:-cuda}
OUT=${OUT:-/tmp/gpu-train-out}
RUNS=${RUNS:-runs/gpu-train}
start=$SECONDS
mkdir -p "$OUT" "$RUNS"

source "$(dirname "$0")/gpu_machine_setup.sh"
source "$(dirname "$0")/process_groups.sh"
export RAM_ENV_THREADS=${RAM_ENV_THREADS:-$(( $(nproc) / $# > 1 ? $(nproc) / $# : 1 ))}
echo "runs: $#, env threads per run: $RAM_ENV_THREADS, setup took $((SECONDS - start)) s"

names=()
stop_groups_on_signals "$GRACE_S"  # stopped from outside: stop the runs as at the deadline
for spec in "$@"; do
    read -r name flags <<<"$spec"
    # shellcheck disable=SC2086  # the flags are meant to split into words
    start_group python3 train.py --algo reinforce --device "$DEVICE" --threads 1 --no-progress \
        --train-minutes "$MINUTES" $COMMON $flags --out "$RUNS/$name" >"$RUNS/$name.log" 2>&1
    names+=("$name")
done
sampled=0
# Poll each second, so that the deadline is kept to the second and the scoring starts as
# soon as the last run ends.
while (( SECONDS - start < DEADLINE_S )) && groups_running; do
    if (( !sampled && SECONDS - start > 120 )); then
        nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader 2>/dev/null
        uptime
        sampled=1
    fi
    sleep 1
done
if groups_running; then  # out of time: stop the trainings cleanly (they save)
    stop_groups "$GRACE_S"
fi
echo "runs trained for $((SECONDS - start)) s in all"

for name in "${names[@]}"; do
    for mc in 1 10; do
        python3 train.py --eval "$RUNS/$name/best.pt" --split test --mc "$mc" --device "$DEVICE" \
            >"$RUNS/$name/eval-mc$mc.log" 2>&1 &
    done
done
wait
for name in "${names[@]}"; do
    images=$(tail -1 "$RUNS/$name/metrics.csv" 2>/dev/null | cut -d, -f2)
    echo "$name images=$images $(grep -h "error" "$RUNS/$name"/eval-mc*.log | tr '\n' ' ')"
done | tee "$RUNS/summary.txt"
(cd "$RUNS" && tar czf "$OUT/gpu-train-runs.tar.gz" --exclude=last.pt --exclude=tb .)
ls -la "$OUT"
