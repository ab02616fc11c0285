#!/usr/bin/env bash
# Checks that two builds train the same parameters in the quick start: runs `fql quickstart --seed S --steps N` with
# each launcher and compares the state (parameters, target, Adam moments; not the header's provenance) of the final
# checkpoints. Usage: tools/quickstart-same-parameters.sh BEFORE_REPO AFTER_REPO [SEED] [STEPS] [extra quickstart flags]
set -euo pipefail
before="$1"; after="$2"; seed="${3:-0}"; steps="${4:-1200}"; shift $(( $# < 4 ? $# : 4 ))
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
work="$(mktemp -d)"
for side in before after; do
  repo="${!side}"
  (cd "$repo" && ./fql quickstart --seed "$seed" --steps "$steps" --output "$work/$side" "$@") > "$work/$side.log" 2>&1 \
    || { echo "$side: quickstart failed, see $work/$side.log" >&2; exit 1; }
  last="$(ls "$work/$side/run/checkpoints/" | grep "^step-.*\.fqlckpt$" | sort | tail -1)"
  python3 "$here/checkpoint-state-digest.py" "$work/$side/run/checkpoints/$last" | tee "$work/$side.digest"
done
if [ "$(cut -d' ' -f1-3 "$work/before.digest")" = "$(cut -d' ' -f1-3 "$work/after.digest")" ]; then
  echo "same final state ($work)"
else
  echo "DIFFERENT final state ($work)"; exit 1
fi
