#!/usr/bin/env bash
# The loop a user would write instead of Dubline: curl under xargs -P C,
# one submit per job, then one getResponse per task every EVERY seconds
# (as Runware's own SDKs poll), then a download of the result.
#
#   URL=http://127.0.0.1:8787/v1 KEY=k VIDEO=<media uuid> AUDIO=<media uuid> \
#   N=100 C=25 EVERY=2 bench/peer-curl.sh
#
# Prints "peer wall_s=<seconds> failed=<n>".
set -euo pipefail
: "${URL:?}" "${KEY:?}" "${VIDEO:?}" "${AUDIO:?}"
N=${N:-100} C=${C:-25} EVERY=${EVERY:-2}
export URL KEY VIDEO AUDIO EVERY

one() {
  local id r video
  id=$(cat /proc/sys/kernel/random/uuid)
  post() { curl -sS -X POST "$URL" -H "Authorization: Bearer $KEY" -H 'Content-Type: application/json' -d "$1"; }
  post "[{\"taskType\":\"videoInference\",\"taskUUID\":\"$id\",\"model\":\"klingai:7@1\",\"deliveryMethod\":\"async\",\"includeCost\":true,\"inputs\":{\"video\":\"$VIDEO\",\"audio\":\"$AUDIO\"}}]" >/dev/null
  while sleep "$EVERY"; do
    r=$(post "[{\"taskType\":\"getResponse\",\"taskUUID\":\"$id\"}]")
    case "$r" in
    *'"status":"success"'*)
      video=$(printf '%s' "$r" | grep -o '"videoURL":"[^"]*"' | head -1 | cut -d'"' -f4)
      curl -sS -o /dev/null "$video"
      return 0 ;;
    *'"errors"'*) echo "failed $id: $r" >&2; return 1 ;;
    esac
  done
}
export -f one

start=$(date +%s.%N)
failed=0
seq "$N" | xargs -P "$C" -I{} bash -c one || failed=$?
end=$(date +%s.%N)
echo "peer wall_s=$(awk "BEGIN{print $end - $start}") failed=$failed"
