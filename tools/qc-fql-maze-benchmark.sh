#!/usr/bin/env bash
# FQL against QC-FQL (action chunks, docs/algorithm.md §11) on the built-in maze at the quick start's settings,
# offline and offline-to-online, one seed per call (issue 23, item 6; BENCHMARKS.md "QC-FQL against FQL").
#
# Usage: tools/qc-fql-maze-benchmark.sh OUT SEED [HORIZON] [ONLINE_STEPS]
#   OUT           a directory for everything this writes (datasets, runs, evaluations, commands.log, results.tsv)
#   SEED          seed of the data, the training and the evaluation (as `./fql quickstart --seed SEED`)
#   HORIZON       QC-FQL's chunk length h (default 5); FQL is h = 1
#   ONLINE_STEPS  online steps after the offline ones (default 5000; exact mode: one learner that acts before
#                 every gradient step)
#
# Per seed: the quick start's dataset (`generate`: pointmaze-medium-task3, 1000 stitch episodes of 200 steps, σ 0.5),
# then for h = 1 and h = HORIZON: `train` with the quick start's settings (W = 2, K = 100, 12 000 steps, policy and
# flow 3×64, critic 3×128, α 3, lr 1e-3, τ 0.1, checkpoint every 20 rounds), `evaluate` (50 episodes, the one-step
# policy), then a copy of the run resumed with ONLINE_STEPS online steps (`--workers 1 --online-steps M --env
# pointmaze-medium-task3`) and evaluated again. Every command is appended to OUT/commands.log with its wall time;
# OUT/results.tsv gets one line per run.
#
# Runs the jar named by FQL_JAR (default: the build's spark-jobs/fql-jobs/target/fql-spark.jar, copied once into
# OUT/bin so that a rebuild during the runs cannot change it) the way ./fql runs it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:?usage: $0 OUT SEED [HORIZON] [ONLINE_STEPS]}"
SEED="${2:?usage: $0 OUT SEED [HORIZON] [ONLINE_STEPS]}"
H="${3:-5}"
ONLINE="${4:-5000}"
ENV_ID=pointmaze-medium-task3
mkdir -p "$OUT/bin"
OUT="$(cd "$OUT" && pwd)"

# A private copy of the jar, its class path and the --add-opens list, made once per OUT.
if [ ! -f "$OUT/bin/fql-spark.jar" ]; then
  cp "${FQL_JAR:-$ROOT/spark-jobs/fql-jobs/target/fql-spark.jar}" "$OUT/bin/fql-spark.jar"
  cp "$ROOT/spark-jobs/fql-jobs/target/spark-classpath.txt" "$OUT/bin/spark-classpath.txt"
  cp "$ROOT/spark-jobs/fql-runtime/target/classes/org/fqlspark/launch/java17-opens.txt" "$OUT/bin/java17-opens.txt"
  (cd "$ROOT" && git rev-parse HEAD && git status --short) > "$OUT/bin/commit.txt"
fi
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}" SPARK_LOCAL_IP="${SPARK_LOCAL_IP:-127.0.0.1}"

fql() {   # as ./fql runs a command, timed into commands.log
  local t0 t1
  t0=$(date +%s.%N)
  echo "$(date -u +%FT%TZ) fql $*" >> "$OUT/commands.log"
  # shellcheck disable=SC2046
  java -Xmx6g $(cat "$OUT/bin/java17-opens.txt") -Dlog4j2.level=WARN -cp "$OUT/bin/fql-spark.jar:$(cat "$OUT/bin/spark-classpath.txt")" \
    org.fqlspark.cli.FqlCli "$@"
  t1=$(date +%s.%N)
  LAST_SECONDS=$(echo "$t1 - $t0" | bc)
  echo "    wall ${LAST_SECONDS} s, load $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/commands.log"
}

json() {   # json FILE KEY: a top-level number of a JSON file
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

record() {   # record RUN_NAME RUN_DIR EVAL_DIR TRAIN_WALL EVAL_WALL
  local steps seconds
  steps=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["final_step"]-r["start_step"])' "$2/result.json")
  seconds=$(json "$2/result.json" train_seconds)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$SEED" "$1" "$(json "$3/summary.json" success_rate)" \
    "$(json "$3/summary.json" mean_return)" "$steps" "$seconds" \
    "$(python3 -c "print(round($steps / $seconds, 1))")" "$4" "$5" >> "$OUT/results.tsv"
}

[ -f "$OUT/results.tsv" ] || printf 'seed\trun\tsuccess\tmean_return\ttrain_steps\ttrain_seconds\tsteps_per_second\ttrain_wall_s\teval_wall_s\n' > "$OUT/results.tsv"

S="$OUT/seed$SEED"
mkdir -p "$S"
if [ ! -f "$S/data/manifest.json" ]; then
  fql generate --env "$ENV_ID" --kind stitch --episodes 1000 --episode-length 200 --noise 0.5 --seed "$SEED" --output "$S/data"
fi
for h in 1 "$H"; do
  name=$([ "$h" = 1 ] && echo fql || echo "qc-fql-h$h")
  run="$S/$name"
  if [ ! -f "$run/result.json" ]; then
    fql train --data "$S/data" --run-dir "$run" --workers 2 --averaging-frequency 100 --steps 12000 \
      --actor-hidden-dims 64,64,64 --value-hidden-dims 128,128,128 --alpha 3 --lr 1e-3 --tau 0.1 --horizon-length "$h" \
      --seed "$SEED" --checkpoint-every 20 --no-progress
    train_wall=$LAST_SECONDS
    fql evaluate --checkpoint "$run" --env "$ENV_ID" --episodes 50 --output "$S/$name-eval" --seed "$SEED"
    record "$name offline" "$run" "$S/$name-eval" "$train_wall" "$LAST_SECONDS"
  fi
  online="$S/$name-online"
  if [ ! -f "$online/result.json" ] || [ "$(json "$online/result.json" final_step)" != $((12000 + ONLINE)) ]; then
    rm -rf "$online" "$S/$name-online-eval"
    cp -r "$run" "$online"
    rm -f "$online/result.json" "$online/_LEASE.json"
    fql train --run-dir "$online" --resume --workers 1 --online-steps "$ONLINE" --env "$ENV_ID" --no-progress
    train_wall=$LAST_SECONDS
    fql evaluate --checkpoint "$online" --env "$ENV_ID" --episodes 50 --output "$S/$name-online-eval" --seed "$SEED"
    record "$name offline-to-online" "$online" "$S/$name-online-eval" "$train_wall" "$LAST_SECONDS"
  fi
done
