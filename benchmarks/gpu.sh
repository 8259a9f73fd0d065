#!/usr/bin/env bash
# Train on a lent GPU machine and bring the runs back: the one entry point of the GPU helpers.
#
#   bash benchmarks/gpu.sh prepare         # here, with the project's venv active, beforehand
#   MINUTES=6.5 DEADLINE_S=540 [EPOCHS=200] [PRECISION=auto] bash benchmarks/gpu.sh paper-rows \
#       "cluttered60 6 paper" "cluttered60 6 lstm-b512" "translated 8 lstm-b512 - 1" ...
#   MINUTES=7 DEADLINE_S=520 bash benchmarks/gpu.sh train-runs \
#       "base-s0 --seed 0" "wd0.1-s0 --weight-decay 0.1 --seed 0" ...
#   bash benchmarks/gpu.sh pack RUNS OUT [LIMIT_MB]
#   [DEVICE=cuda BATCHES="512 1024"] bash benchmarks/gpu.sh env-speed
#   bash benchmarks/gpu.sh help
#
# prepare: the machine has no network, so the Python packages it lacks travel as wheels in
# .whl/ and MNIST as IDX files in .devdata/mnist/ (both git-ignored; the device tool carries
# them). `prepare` makes both here; paper-rows and train-runs install them there first.
#
# paper-rows: train several paper-table rows at once, one process per row, and pack each run
# (best.pt, metrics, scores, log) into $OUT for the trip back. Each argument is
# "TASK GLIMPSES VARIANT [MINUTES [SEED]]" (see benchmarks/paper_tables.py); a row's own
# MINUTES overrides $MINUTES ("-" keeps it) and its SEED (default 0) picks the seed, so one
# call can train several seeds of a seed-table row (with PRECISION=fp32 where its other seeds
# trained in fp32: auto picks bf16 on most GPUs). A run folder carried in runs/gpu/ with a
# last.pt is resumed, so a longer MINUTES extends an earlier run (its cosine LR restarts
# part-way). Whatever state the rows are in at DEADLINE_S seconds is packed, so a slow row never
# costs the others' results. Each row's env gets $(nproc) / rows threads unless RAM_ENV_THREADS
# is set. Each row is a process group of its own (paper_tables.py and the train.py it runs): at
# the deadline, or when this script is stopped, every row's group gets SIGTERM (train.py stops
# cleanly and saves, paper_tables.py then writes its report and ends) and GRACE_S whole seconds
# (default 20) to end before SIGKILL; nothing this script did not start is signalled.
#
# train-runs: train several `train.py --algo reinforce` runs at once (an A/B sweep of
# settings over seeds), score each best.pt on the test split (one mean path and --mc 10) and
# bring back one tar of every run's metrics, scores, log and best.pt. Each argument is
# "NAME [TRAIN.PY FLAGS...]"; every run also gets --device $DEVICE (default cuda), --threads 1,
# --train-minutes $MINUTES and $COMMON (default: nothing, so train.py's defaults apply,
# --epochs 200 included: a run stops at whichever of the two ends first, and its cosine LR
# decays over that). Runs sharing one GPU go at the same pace, so equal minutes mean about
# equal images for settings of equal cost; compare only such runs. At DEADLINE_S seconds the
# runs still training get SIGTERM (they stop cleanly and save) and GRACE_S whole seconds
# (default 15) to end before SIGKILL. Each run is a process group of its own, and only those
# groups are signalled, also when the script itself is stopped.
#
# pack: pack each run folder under RUNS into OUT as one tar, within the device tool's return
# limit (what paper-rows does at its end; see pack_runs below).
#
# env-speed: the torch env against the numpy env on the GPU (about five minutes). First the
# torch env's tests run with it on $DEVICE (tests/test_torch_env.py: the numpy env's
# glimpses, episodes and infos, there; skipped, and said so, where pytest is missing); then
# two tables: env steps/s of every registered id at 1024 envs (benchmarks/env_speed.py
# --device), and the trainer's images/s on the cluttered 100x100 task with the LSTM core at
# each batch size of $BATCHES (benchmarks/torch_env_train_speed.py). All of it also goes to
# $OUT/env-speed.md (default OUT=/tmp/gpu-env-speed-out).
#
# Sourced (`source benchmarks/gpu.sh`, as the tests do), the script only defines its
# functions; run, it runs the one command it is given.

# ---- Machine setup --------------------------------------------------------------------------

# setup_machine: make a bare GPU machine, which has no network, ready to train. Installs the
# wheels carried in .whl/ (made by `gpu.sh prepare`), builds the MNIST cache from the IDX
# files carried in .devdata/mnist/, and prints the GPU. Exits the script if any of it fails.
setup_machine() {
    if compgen -G ".whl/*.whl" >/dev/null; then
        python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
            --target /tmp/site .whl/*.whl || exit 1
        export PYTHONPATH=/tmp/site:$PWD
    fi
    export RAM_ENV_DATA=${RAM_ENV_DATA:-/tmp/ram-env-data} PYTHONUNBUFFERED=1
    export RAM_ENV_MNIST_DIR=${RAM_ENV_MNIST_DIR:-$PWD/.devdata/mnist}
    python3 -m ram_env.data fetch --quiet || exit 1
    nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv,noheader 2>/dev/null
}

# ---- Process groups -------------------------------------------------------------------------
# Start each run in a process group of its own and stop exactly those groups, never processes
# picked by name, so that another training on the same machine (another user's, a test's) is
# never touched. A group holds the command and everything it starts (paper_tables.py's
# train.py included): a signal to the group reaches them all, and an empty group means all of
# them have ended. A group's id is its leader's pid, which the kernel does not hand out again
# while any process of the group is left; a group once seen empty is never signalled again.
group_pids=()  # the leader's pid (= the group's id) of every group started here

# start_group CMD [ARGS...]: run CMD in the background as the leader of a new process group
# (redirect the call's output as the command's). Job control is on only for this one launch:
# with it, bash puts a background job in a group of its own.
start_group() {
    set -m
    "$@" &
    group_pids+=($!)
    set +m
}

# group_alive PGID: whether any process of the group is still there.
group_alive() {
    kill -0 -- "-$1" 2>/dev/null
}

# groups_running: whether any group started here still has a process.
groups_running() {
    local pid
    for pid in "${group_pids[@]}"; do
        group_alive "$pid" && return 0
    done
    return 1
}

# wait_groups SECONDS PGID...: wait up to SECONDS (polling every 0.1 s) for the given groups
# to be empty; sets `live` to those still there.
wait_groups() {
    local polls=$(( $1 * 10 )) pid left
    shift
    live=("$@")
    while (( ${#live[@]} && polls > 0 )); do
        sleep 0.1
        (( polls -= 1 ))
        left=()
        for pid in "${live[@]}"; do
            group_alive "$pid" && left+=("$pid")
        done
        live=("${left[@]}")
    done
}

# stop_groups GRACE_S: SIGTERM every group started here that is still there (a training
# stops cleanly and saves), wait up to GRACE_S seconds for all their processes to end, then
# SIGKILL the groups still left and wait up to 5 s more for them to go (a process killed
# takes a moment to end; one that is then still there is stuck in the kernel, and left).
stop_groups() {
    local grace=$1 pid term=() live=()
    for pid in "${group_pids[@]}"; do
        group_alive "$pid" && kill -TERM -- "-$pid" 2>/dev/null && term+=("$pid")
    done
    (( ${#term[@]} )) && wait_groups "$grace" "${term[@]}"
    if (( ${#live[@]} )); then
        for pid in "${live[@]}"; do
            echo "process group $pid still running ${grace} s after SIGTERM: SIGKILL" >&2
            kill -KILL -- "-$pid" 2>/dev/null
        done
        wait_groups 5 "${live[@]}"
    fi
    if (( ${#group_pids[@]} )); then  # reap the leaders (a killed one ends at once)
        wait "${group_pids[@]}" 2>/dev/null
    fi
    return 0
}

# stop_groups_on_signals GRACE_S: when this script is stopped (Ctrl-C, a hang-up, or a TERM
# as a time-bounded caller sends its group), stop the groups too rather than leave them
# running: they are not in this script's group, so a signal to it does not reach them.
stop_groups_on_signals() {
    local grace=$1
    # shellcheck disable=SC2064  # the grace period is fixed now, when the traps are set
    trap "stop_groups $grace; exit 129" HUP
    # shellcheck disable=SC2064
    trap "stop_groups $grace; exit 130" INT
    # shellcheck disable=SC2064
    trap "stop_groups $grace; exit 143" TERM
}

# ---- Packing --------------------------------------------------------------------------------

PACK_MAX_FILES=8  # the device tool brings back at most 8 files

# packed_bytes OUT, packed_files OUT: the size and the number of the tars in OUT so far.
packed_bytes() { du -cb "$1"/*.tar.gz 2>/dev/null | tail -1 | cut -f1; }
packed_files() { compgen -G "$1/*.tar.gz" | wc -l; }

# pack_run RUNS OUT LIMIT_BYTES NAME [EXCLUDE...]: RUNS/NAME (less tb/ and the EXCLUDEs), its
# log and every row's output as one tar OUT/NAME.tar.gz, kept only if OUT then still fits.
pack_run() {
    local runs=$1 out=$2 limit=$3 name=$4 pattern excludes=()
    local tar="$out/$name.tar.gz"
    shift 4
    for pattern in tb "$@"; do excludes+=(--exclude="$pattern"); done
    # shellcheck disable=SC2046  # the log and the outputs there, one word each
    (cd "$runs" && tar czf "$tar" "${excludes[@]}" "$name" \
        $(ls "$name.log" *.out 2>/dev/null)) || return 1
    if (( $(packed_bytes "$out") > limit || $(packed_files "$out") > PACK_MAX_FILES )); then
        rm -f "$tar"
        return 1
    fi
}

# pack_runs RUNS OUT [LIMIT_MB]: pack each run folder under RUNS into OUT as one tar for the
# trip back from a GPU machine, keeping the lot under LIMIT_MB (default 60) and the device
# tool's 8 files (its return limit is 64 MiB): without it the tool drops whole tars, and with
# them the runs that were to be carried on. Unscored runs (no row.json: stopped at the
# deadline, to be carried on elsewhere from last.pt) go first and whole. Scored runs follow;
# where the room runs short, a scored run leaves its last.pt behind (best.pt is what its score
# and plots come from), and one that does not fit even then is left out. Every tar holds the
# run's log and every row's output.
pack_runs() {
    local runs=$1 out=$2 limit=$(( ${3:-60} * 1024 * 1024 )) run name unscored=() scored=()
    mkdir -p "$out" || return 1
    for run in "$runs"/*/; do
        name=$(basename "$run")
        [[ $name == report ]] && continue
        if [[ -f $run/row.json ]]; then scored+=("$name"); else unscored+=("$name"); fi
    done
    for name in "${unscored[@]}"; do
        pack_run "$runs" "$out" "$limit" "$name" ||
            echo "LEFT BEHIND (no room): unscored run $name" >&2
    done
    for name in "${scored[@]}"; do
        pack_run "$runs" "$out" "$limit" "$name" && continue
        if pack_run "$runs" "$out" "$limit" "$name" "$name/last.pt"; then
            echo "packed $name without last.pt (no room)" >&2
            continue
        fi
        echo "LEFT BEHIND (no room): scored run $name" >&2
    done
    ls -la "$out"
}

# ---- Commands -------------------------------------------------------------------------------

# prepare: download the wheels of the packages a bare GPU machine lacks into .whl/ (pytest and
# its own among them, for env-speed's tests on the GPU) and export MNIST as IDX files into
# .devdata/mnist/, with the project's venv active.
prepare() {
    local pkgs
    pkgs=$(python -m pip list --format=freeze 2>/dev/null |
        grep -iE '^(gymnasium|farama-notifications|stable.baselines3|sb3.contrib)==|^(pytest|iniconfig|pluggy|packaging|pygments)==')
    [[ -n $pkgs ]] || { echo "activate the project's venv first" >&2; exit 1; }
    # shellcheck disable=SC2086  # one word per package
    python -m pip download -q --no-deps -d .whl $pkgs || exit 1
    python -m ram_env.data export .devdata/mnist || exit 1
    ls -la .whl .devdata/mnist
    return 0
}

# paper_rows "TASK GLIMPSES VARIANT [MINUTES [SEED]]"...: the paper-rows command (see the top).
paper_rows() {
    (( $# )) || usage_error "paper-rows: give at least one row: \"TASK GLIMPSES VARIANT\""
    MINUTES=${MINUTES:-6.5}
    EPOCHS=${EPOCHS:-200}  # paper_tables' epoch cap: raise it for long rows (a fast row hits it)
    DEADLINE_S=${DEADLINE_S:-540}
    GRACE_S=${GRACE_S:-20}
    DEVICE=${DEVICE:-cuda}
    PRECISION=${PRECISION:-auto}  # fp32 for a seed table whose other seeds trained in fp32
    OUT=${OUT:-/tmp/gpu-rows-out}
    RUNS=runs/gpu
    [[ $PRECISION =~ ^(auto|fp32|bf16)$ ]] ||
        usage_error "paper-rows: PRECISION=$PRECISION is not auto, fp32 or bf16"
    local start=$SECONDS spec task glimpses variant minutes seed extra sampled=0
    for spec in "$@"; do  # refuse a malformed row before the machine is set up
        read -r task glimpses variant minutes seed extra <<<"$spec"
        [[ -n $variant && -z $extra ]] ||
            usage_error "paper-rows: \"$spec\" is not \"TASK GLIMPSES VARIANT [MINUTES [SEED]]\""
        [[ -z $seed || $seed =~ ^[0-9]+$ ]] ||
            usage_error "paper-rows: the seed \"$seed\" of \"$spec\" is not a whole number"
    done
    mkdir -p "$OUT" "$RUNS"
    setup_machine

    # Build the fixed validation/test canvases once, before the rows race for them.
    python3 - <<'EOF' || exit 1
import gymnasium
import ram_env  # noqa: F401
for env_id in (
    "GlimpseTranslatedMNIST-v0", "GlimpseClutteredMNIST-v0", "GlimpseClutteredMNIST100-v0"
):
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
        read -r task glimpses variant minutes seed extra <<<"$spec"
        [[ -z $minutes || $minutes == - ]] && minutes=$MINUTES
        seed=${seed:-0}
        # As a module: the repository's own benchmarks package, whatever $PYTHONPATH holds.
        start_group python3 -m benchmarks.paper_tables --only "$task" --glimpses "$glimpses" \
            --random exclude --variant "$variant" --device "$DEVICE" --precision "$PRECISION" \
            --minutes "$minutes" --epochs "$EPOCHS" --threads 1 --seed "$seed" --runs-dir "$RUNS" \
            --out "$RUNS/report/results.md" >"$RUNS/$task-g$glimpses-$variant-seed$seed.out" 2>&1
    done
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

    # One tar per run, within what the tool brings back (see pack_runs): best.pt (what the
    # report scores and plots), last.pt (so the run can be extended here or on a later machine
    # with --resume), metrics, scores, the run's log and every row's output. In a subshell, as
    # a script of its own would be: a failure there still leaves the score lines to print.
    (pack_runs "$RUNS" "$OUT")
    grep -h "test error" "$RUNS"/*.out  # each row's score line from paper_tables.py
}

# train_runs "NAME [FLAGS...]"...: the train-runs command (see the top).
train_runs() {
    (( $# )) || usage_error "train-runs: give at least one run: \"NAME [FLAGS...]\""
    MINUTES=${MINUTES:-7}
    DEADLINE_S=${DEADLINE_S:-520}
    GRACE_S=${GRACE_S:-15}
    COMMON=${COMMON:-}
    DEVICE=${DEVICE:-cuda}
    OUT=${OUT:-/tmp/gpu-train-out}
    RUNS=${RUNS:-runs/gpu-train}
    local start=$SECONDS spec name flags mc images names=() sampled=0
    mkdir -p "$OUT" "$RUNS"

    setup_machine
    export RAM_ENV_THREADS=${RAM_ENV_THREADS:-$(( $(nproc) / $# > 1 ? $(nproc) / $# : 1 ))}
    echo "runs: $#, env threads per run: $RAM_ENV_THREADS, setup took $((SECONDS - start)) s"

    stop_groups_on_signals "$GRACE_S"  # stopped from outside: stop the runs as at the deadline
    for spec in "$@"; do
        read -r name flags <<<"$spec"
        # shellcheck disable=SC2086  # the flags are meant to split into words
        start_group python3 train.py --algo reinforce --device "$DEVICE" --threads 1 \
            --no-progress --train-minutes "$MINUTES" $COMMON $flags --out "$RUNS/$name" \
            >"$RUNS/$name.log" 2>&1
        names+=("$name")
    done
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
            python3 train.py --eval "$RUNS/$name/best.pt" --split test --mc "$mc" \
                --device "$DEVICE" >"$RUNS/$name/eval-mc$mc.log" 2>&1 &
        done
    done
    wait
    for name in "${names[@]}"; do
        images=$(tail -1 "$RUNS/$name/metrics.csv" 2>/dev/null | cut -d, -f2)
        echo "$name images=$images $(grep -h "error" "$RUNS/$name"/eval-mc*.log | tr '\n' ' ')"
    done | tee "$RUNS/summary.txt"
    (cd "$RUNS" && tar czf "$OUT/gpu-train-runs.tar.gz" --exclude=last.pt --exclude=tb .)
    ls -la "$OUT"
}

# env_speed: the env-speed command (see the top).
env_speed() {
    DEVICE=${DEVICE:-cuda}
    BATCHES=${BATCHES:-512 1024}
    OUT=${OUT:-/tmp/gpu-env-speed-out}
    mkdir -p "$OUT"
    setup_machine
    {
        if python3 -c "import pytest" 2>/dev/null; then
            RAM_ENV_TEST_DEVICE=$DEVICE python3 -m pytest -q -p no:cacheprovider \
                tests/test_torch_env.py 2>&1 | tail -15
            (( PIPESTATUS[0] == 0 )) || return 1
        else
            echo "pytest is not installed here: the torch env's tests on $DEVICE are skipped"
        fi
        echo
        python3 -m benchmarks.env_speed --device "$DEVICE" || return 1
        echo
        # shellcheck disable=SC2086  # one word per batch size
        python3 -m benchmarks.torch_env_train_speed --device "$DEVICE" --threads 1 \
            --batch-size $BATCHES || return 1
    } | tee "$OUT/env-speed.md"
    return "${PIPESTATUS[0]}"
}

# ---- Entry point ----------------------------------------------------------------------------

usage() {
    cat <<'EOF'
usage: bash benchmarks/gpu.sh COMMAND [ARGS...]

  prepare                     here, with the project's venv active: the wheels a bare GPU
                              machine lacks into .whl/, MNIST as IDX files into .devdata/mnist/
  paper-rows "TASK GLIMPSES VARIANT [MINUTES [SEED]]"...
                              train paper-table rows at once in runs/gpu, pack each run
                              (MINUTES=6.5 EPOCHS=200 DEADLINE_S=540 GRACE_S=20 DEVICE=cuda
                              PRECISION=auto OUT=/tmp/gpu-rows-out)
  train-runs "NAME [TRAIN.PY FLAGS...]"...
                              train reinforce runs at once, score each, one tar of them all
                              (MINUTES=7 DEADLINE_S=520 GRACE_S=15 COMMON= DEVICE=cuda
                              OUT=/tmp/gpu-train-out RUNS=runs/gpu-train)
  pack RUNS OUT [LIMIT_MB]    one tar per run under RUNS into OUT, within LIMIT_MB
                              (default 60) and 8 files
  env-speed                   the torch env's tests on the GPU, then the torch env against
                              the numpy env: env steps/s of every id, and the trainer's
                              images/s (cluttered 100x100, LSTM)
                              (DEVICE=cuda BATCHES="512 1024" OUT=/tmp/gpu-env-speed-out)
  help                        this text

Both training commands give each run $(nproc) / runs env threads unless RAM_ENV_THREADS is
set. The comments at the top of benchmarks/gpu.sh say more.
EOF
}

# usage_error MESSAGE: say what is wrong and how the script is called, and exit 2.
usage_error() {
    echo "gpu.sh: $1" >&2
    usage >&2
    exit 2
}

# main COMMAND [ARGS...]: run one command; its exit status is the script's.
main() {
    local command=${1:-}
    (( $# )) && shift
    case $command in
        prepare)
            (( $# == 0 )) || usage_error "prepare takes no arguments"
            prepare
            ;;
        paper-rows) paper_rows "$@" ;;
        train-runs) train_runs "$@" ;;
        pack)
            (( $# == 2 || $# == 3 )) || usage_error "pack: give RUNS OUT [LIMIT_MB]"
            pack_runs "$@"
            ;;
        env-speed)
            (( $# == 0 )) || usage_error "env-speed takes no arguments (set DEVICE, BATCHES)"
            env_speed
            ;;
        help | -h | --help) usage ;;
        "") usage_error "give a command" ;;
        *) usage_error "unknown command: $command" ;;
    esac
}

# Sourced, the functions only (the tests call them one by one); run, the command given.
[[ ${BASH_SOURCE[0]} == "$0" ]] || return 0
set -u  # here, not at the top: a shell that sources the file keeps its own options
main "$@"
