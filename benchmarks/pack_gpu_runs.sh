#!/usr/bin/env bash
# Pack each run folder under RUNS into OUT as one tar for the trip back from a GPU machine,
# keeping the lot under the device tool's return limit (64 MiB, 8 files): without it the
# tool drops whole tars, and with them the runs that were to be carried on.
#
#   bash benchmarks/pack_gpu_runs.sh RUNS OUT [LIMIT_MB]
#
# Unscored runs (no row.json: stopped at the deadline, to be carried on elsewhere from
# last.pt) go first and whole. Scored runs follow; where the room runs short, a scored run
# leaves its last.pt behind (best.pt is what its score and plots come from), and one that
# does not fit even then is left out. Every tar holds the run's log and every row's output.
set -u
(( $# >= 2 )) || { echo "usage: pack_gpu_runs.sh RUNS OUT [LIMIT_MB]" >&2; exit 2; }
RUNS=$1
OUT=$2
LIMIT=$(( ${3:-60} * 1024 * 1024 ))
MAX_FILES=8
mkdir -p "$OUT" || exit 1

used() { du -cb "$OUT"/*.tar.gz 2>/dev/null | tail -1 | cut -f1; }
files() { compgen -G "$OUT/*.tar.gz" | wc -l; }

pack() {  # pack NAME [EXCLUDE...]: one tar; kept only if it fits
    local name=$1 tar="$OUT/$1.tar.gz" excludes=()
    shift
    for pattern in tb "$@"; do excludes+=(--exclude="$pattern"); done
    (cd "$RUNS" && tar czf "$tar" "${excludes[@]}" "$name" \
        $(ls "$name.log" *.out 2>/dev/null)) || return 1
    if (( $(used) > LIMIT || $(files) > MAX_FILES )); then
        rm -f "$tar"
        return 1
    fi
}

unscored=()
scored=()
for run in "$RUNS"/*/; do
    name=$(basename "$run")
    [[ $name == report ]] && continue
    if [[ -f $run/row.json ]]; then scored+=("$name"); else unscored+=("$name"); fi
done
for name in "${unscored[@]}"; do
    pack "$name" || echo "LEFT BEHIND (no room): unscored run $name" >&2
done
for name in "${scored[@]}"; do
    pack "$name" && continue
    pack "$name" "$name/last.pt" && { echo "packed $name without last.pt (no room)" >&2; continue; }
    echo "LEFT BEHIND (no room): scored run $name" >&2
done
ls -la "$OUT"
