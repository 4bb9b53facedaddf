#!/bin/sh
# bench/run.sh: builds innsync (Release) in its own directory and runs the
# benchmark of issue 2 ("Performance") with the issue's configuration:
#   1. throughput: 200 agents x 500 records, closed loop (window 1024,
#      batches of 256): durable acknowledged records/s and HQ CPU/record;
#   2. latency at the target load: 200 agents offering 20,000 records/s
#      together (2,000 records each, about 20 s): ack latency p50/p99.
# Both with CURVE, synchronous=FULL and a manifest signature per batch.
#
# usage: bench/run.sh                 both runs above
#        bench/run.sh --json          both runs, JSON results
#        bench/run.sh ARGS...         one run of innsync-bench with ARGS
# Environment: INNSYNC_BENCH_BUILD (build directory, default
# <repo>/build-bench), TMPDIR (where the HQ store is made: use a real disk,
# not tmpfs, or fsync costs nothing).
# Exit status: 0 when every run acknowledged and verified all its records.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${INNSYNC_BENCH_BUILD:-$repo/build-bench}
jobs=$(nproc 2>/dev/null || echo 2)

echo "building innsync (Release) in $build" >&2
mkdir -p "$build"
log="$build/bench-build.log"
cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release -DINNSYNC_TESTS=OFF >"$log" 2>&1 ||
	{ cat "$log" >&2; exit 1; }
make -C "$build" -j"$jobs" innsync-bench innsync-hq innsync-branch >>"$log" 2>&1 ||
	{ tail -40 "$log" >&2; exit 1; }
bench="$build/bench/innsync-bench"

json=
if [ $# -eq 1 ] && [ "$1" = --json ]; then
	json=--json
	shift
fi
if [ $# -gt 0 ]; then
	exec "$bench" "$@"
fi

status=0
echo "== 1/2 throughput: 200 agents x 500 records, closed loop" >&2
"$bench" $json --agents 200 --records 500 --batch 256 --window 1024 || status=1
echo "== 2/2 latency at the target load: 200 agents offering 20000 records/s" >&2
"$bench" $json --agents 200 --records 2000 --batch 256 --window 1024 --rate 20000 || status=1
echo "target (issue 2): >= 20000 records/s with 200 agents, p99 ack latency < 100 ms" >&2
exit $status
