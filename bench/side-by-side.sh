#!/usr/bin/env bash
# Dubline and the shell-loop peer (bench/peer-curl.sh) side by side against
# the same Runware emulator in another process (`dubline sandbox`).
#
#   bench/side-by-side.sh [-L 20] [-J 2] [-N 100] [-C 25] [-R 5] [-only dubline|peer]
#
# Renders take L±J seconds (uniform), so the ideal wall is N*L/C. Each of
# R rounds runs the peer, then Dubline (defaults only, output to a local
# directory), on a fresh emulator each. Prints one line per run and the
# medians: wall, wall/ideal, API requests per job.
set -euo pipefail
L=20 J=2 N=100 C=25 R=5 ONLY=""
while getopts "L:J:N:C:R:o:" f; do
  case $f in L) L=$OPTARG ;; J) J=$OPTARG ;; N) N=$OPTARG ;; C) C=$OPTARG ;; R) R=$OPTARG ;; o) ONLY=$OPTARG ;; *) exit 2 ;; esac
done
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/dubline" ./cmd/dubline
KEY=bench-key PORT=$((20000 + RANDOM % 20000))
URL=http://127.0.0.1:$PORT/v1

start_emulator() {
  "$work/dubline" sandbox --listen 127.0.0.1:$PORT --api-key $KEY --latency "${L}s" --jitter "${J}s" >"$work/sandbox.log" 2>&1 &
  EMU=$!
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/debug/stats" >/dev/null && return; sleep 0.1; done
  echo "emulator did not start" >&2; exit 1
}
requests() { curl -s "http://127.0.0.1:$PORT/debug/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Requests"])'; }
upload() { # a media UUID for file $1
  printf '[{"taskType":"mediaStorage","taskUUID":"%s","operation":"upload","media":"%s"}]' \
    "$(cat /proc/sys/kernel/random/uuid)" "$(base64 -w0 "$1")" >"$work/upload.json"
  curl -s -X POST "$URL" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d @"$work/upload.json" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["mediaUUID"])'
}
manifest() { # N jobs on media UUIDs (audioSeconds given: a UUID cannot be probed)
  { echo "version: 1"; echo "name: bench"; echo "output: {url: $work/out/}"; echo "limits: {concurrency: $C}"; echo "jobs:"
    for i in $(seq "$N"); do echo "  - {id: j$i, video: $1, audio: $2, audioSeconds: 4.2, videoSeconds: 4.2}"; done
  } >"$work/m.yaml"
}
ideal=$(awk "BEGIN{print $N * $L / $C}")
echo "# N=$N C=$C renders ${L}s±${J}s: ideal ${ideal}s"
results=()
for r in $(seq "$R"); do
  for who in peer dubline; do
    [ -n "$ONLY" ] && [ "$ONLY" != "$who" ] && continue
    start_emulator
    video=$(upload testdata/media/face.mp4) audio=$(upload testdata/media/speech_4_2s.wav)
    before=$(requests)
    t0=$(date +%s.%N)
    if [ $who = peer ]; then
      URL=$URL KEY=$KEY VIDEO=$video AUDIO=$audio N=$N C=$C bench/peer-curl.sh >/dev/null
    else
      manifest "$video" "$audio"; rm -rf "$work/out" "$work/.dubline"
      RUNWARE_API_URL=$URL RUNWARE_API_KEY=$KEY "$work/dubline" run "$work/m.yaml" 2>"$work/run.log" || { tail -5 "$work/run.log"; exit 1; }
    fi
    t1=$(date +%s.%N)
    reqs=$(( $(requests) - before ))
    kill $EMU; wait $EMU 2>/dev/null || true
    line=$(awk -v w="$t1 - $t0" "BEGIN{wall=$t1-$t0; printf \"%s run=%d wall_s=%.1f x_ideal=%.3f req_per_job=%.2f\", \"$who\", $r, wall, wall/$ideal, $reqs/$N}")
    echo "$line"; results+=("$line")
  done
done
printf '%s\n' "${results[@]}" | python3 -c '
import sys, statistics
rows = {}
for line in sys.stdin:
    f = line.split()
    rows.setdefault(f[0], []).append({k: float(v) for k, v in (x.split("=") for x in f[2:])})
for who, rs in rows.items():
    med = {k: statistics.median(r[k] for r in rs) for k in rs[0]}
    print("median %s (%d runs): wall_s=%.1f x_ideal=%.3f req_per_job=%.2f" % (who, len(rs), med["wall_s"], med["x_ideal"], med["req_per_job"]))
'
