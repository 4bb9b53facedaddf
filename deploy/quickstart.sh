#!/usr/bin/env bash
# deploy/quickstart.sh: installs what is missing, builds innsync, creates a
# demo HQ under ./var/ with the demo sites of deploy/demo/, enrols and starts
# one agent per site, submits a year of monthly sales reports per site, shows
# `innsync-hq reports`, and keeps everything running until Ctrl-C.
#
# Ports: HQ listens on 127.0.0.1:${INNSYNC_PORT:-7400} (sync) and the next
# port (enrolment). Set INNSYNC_PORT to use others.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
. deploy/deps.sh
innsync_install_deps

echo "== building"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
hq_bin="$root/build/innsync-hq"
branch_bin="$root/build/innsync-branch"

port=${INNSYNC_PORT:-7400}
sync_endpoint="tcp://127.0.0.1:$port"
enroll_endpoint="tcp://127.0.0.1:$((port + 1))"
var="$root/var"
pids=()

stop_all() {
	if [ ${#pids[@]} -gt 0 ]; then
		echo
		echo "== stopping HQ and agents"
		kill "${pids[@]}" 2>/dev/null || true
		wait "${pids[@]}" 2>/dev/null || true
	fi
}
trap stop_all EXIT
trap 'exit 0' INT TERM

if [ -d "$var" ]; then
	echo "== removing the previous demo in $var"
	rm -rf "$var"
fi
mkdir -p "$var/logs"

echo "== creating HQ in $var/hq"
hq_key=$("$hq_bin" init --data "$var/hq" | sed -n 's/^hq-key: //p')

# sites.json -> one line per site: id, name, kind, city, rooms, region, tier
python3 - "$root/deploy/demo/sites.json" > "$var/sites.tsv" <<'PY'
import json, sys
for s in json.load(open(sys.argv[1], encoding="utf-8")):
    print("\t".join(str(s[k]) for k in ("id", "name", "kind", "city", "rooms", "region", "tier")))
PY
while IFS=$'\t' read -r id name kind city rooms region tier; do
	"$hq_bin" site add --data "$var/hq" --id "$id" --name "$name" --kind "$kind" \
		--city "$city" --rooms "$rooms" --region "$region" --tier "$tier"
done < "$var/sites.tsv"

echo "== starting HQ on $sync_endpoint (enrolment $enroll_endpoint)"
"$hq_bin" run --data "$var/hq" --listen "$sync_endpoint" --enroll "$enroll_endpoint" \
	2> "$var/logs/hq.log" &
pids+=($!)
for _ in $(seq 1 100); do
	grep -q "ready:" "$var/logs/hq.log" 2>/dev/null && break
	if ! kill -0 "${pids[0]}" 2>/dev/null; then
		echo "HQ did not start:"; cat "$var/logs/hq.log"; exit 1
	fi
	sleep 0.1
done

echo "== enrolling and starting one agent per site"
while IFS=$'\t' read -r id _rest; do
	token=$("$hq_bin" token --data "$var/hq" --site "$id" | sed -n 's/^token: //p')
	"$branch_bin" enroll --data "$var/sites/$id" --hq "$enroll_endpoint" \
		--hq-key "$hq_key" --token "$token"
	"$branch_bin" run --data "$var/sites/$id" 2> "$var/logs/$id.log" &
	pids+=($!)
done < "$var/sites.tsv"

echo "== submitting a year of monthly sales reports per site"
total=0
while IFS=$'\t' read -r id _rest; do
	for report in "$root/deploy/demo/reports/$id"/*.json; do
		"$branch_bin" submit sales --data "$var/sites/$id" "$report" >/dev/null
		total=$((total + 1))
	done
	echo "  $id: $(ls "$root/deploy/demo/reports/$id" | wc -l) reports queued"
done < "$var/sites.tsv"

echo "== waiting for HQ to acknowledge all $total reports"
for _ in $(seq 1 300); do
	pending=0
	while IFS=$'\t' read -r id _rest; do
		n=$("$branch_bin" status --data "$var/sites/$id" --json |
			python3 -c 'import json,sys; print(json.load(sys.stdin)["pending"])')
		pending=$((pending + n))
	done < "$var/sites.tsv"
	[ "$pending" -eq 0 ] && break
	sleep 0.2
done
if [ "$pending" -ne 0 ]; then
	echo "still $pending reports pending; see $var/logs/"
fi

echo
echo "== innsync-hq sites --data var/hq"
"$hq_bin" sites --data "$var/hq"
echo
echo "== innsync-hq reports --data var/hq"
"$hq_bin" reports --data "$var/hq"
echo
cat <<MSG
HQ and $((${#pids[@]} - 1)) agents are running; logs in var/logs/. Try:
  build/innsync-hq reports --data var/hq --site SH001 --json
  build/innsync-branch status --data var/sites/SH001
  build/innsync-branch submit sales --data var/sites/SH001 deploy/demo/reports/SH001/2026-03.json --reason "corrected F&B"
Press Ctrl-C to stop.
MSG
wait
