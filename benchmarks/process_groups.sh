# Sourced by the GPU scripts (gpu_train_runs.sh, gpu_paper_rows.sh): start each run in a
# process group of its own and stop exactly those groups, never processes picked by name, so
# that another training on the same machine (another user's, a test's) is never touched.
# A group holds the command and everything it starts (paper_tables.py's train.py included):
# a signal to the group reaches them all, and an empty group means all of them have ended.
# A group's id is its leader's pid, which the kernel does not hand out again while any
# process of the group is left; a group once seen empty is never signalled again.
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
