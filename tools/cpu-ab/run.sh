#!/usr/bin/env bash
# CPU training step of this checkout against another commit's, in one JVM (tools/cpu-ab/README.md).
#   tools/cpu-ab/run.sh BASE_COMMIT [small|paper] [ROUNDS]
# Builds BASE_COMMIT's agent module in a temporary git worktree and this checkout's (mvn, offline when the cache has
# everything), then runs Interleaved with four variants: base, this, and a second copy of each (the method's noise).
# One thread (OMP_NUM_THREADS=1, -Dfql.kernelThreads=1); OPENBLAS_* are passed through as they are set.
set -euo pipefail
base="${1:?usage: tools/cpu-ab/run.sh BASE_COMMIT [small|paper] [ROUNDS]}"; size="${2:-small}"
rounds="${3:-$([ "$size" = paper ] && echo 30 || echo 50)}"
block=$([ "$size" = paper ] && echo 5 || echo 200)
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"; repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"; trap 'git -C "$repo" worktree remove --force "$work/base-tree" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
# Maven's output goes to a log, shown only when a build fails (online first, then offline with what the cache has)
mvn_q() { mvn -B -ntp "$@" >"$work/mvn.log" 2>&1 || mvn -B -ntp -o "$@" >"$work/mvn.log" 2>&1 || { cat "$work/mvn.log" >&2; exit 1; }; }
git -C "$repo" worktree add --quiet --detach "$work/base-tree" "$base"
for side in base this; do
  tree=$([ $side = base ] && echo "$work/base-tree" || echo "$repo")
  (cd "$tree" && mvn_q -DskipTests -pl spark-jobs/fql-agent -am compile)
  (cd "$tree" && mvn_q -pl spark-jobs/fql-agent dependency:build-classpath -Dmdep.outputFile="$work/$side.cp")
  mkdir -p "$work/$side-step"
  javac -nowarn -d "$work/$side-step" -cp "$tree/spark-jobs/fql-agent/target/classes:$(cat "$work/$side.cp")" "$here/ABStep.java"
  printf '%s' "$work/$side-step:$tree/spark-jobs/fql-agent/target/classes" > "$work/$side.dirs"
done
cmp -s "$work/base.cp" "$work/this.cp" || echo "note: the two builds' dependency class paths differ; the shared one is this checkout's" >&2
mkdir -p "$work/harness" && javac -d "$work/harness" "$here/Interleaved.java"
echo "cpu-ab: $(git -C "$repo" rev-parse --short "$base") against $(git -C "$repo" rev-parse --short HEAD)$(git -C "$repo" diff --quiet HEAD -- spark-jobs || echo ' + uncommitted changes'), $size size, $rounds rounds of $block steps, $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
OMP_NUM_THREADS=1 java -Xmx3g -Dfql.kernelThreads=1 -Dab.size="$size" -cp "$work/harness:$(cat "$work/this.cp")" Interleaved \
  "$block" "$rounds" 10 "base=$(cat "$work/base.dirs")" "this=$(cat "$work/this.dirs")" \
  "base-2=$(cat "$work/base.dirs")" "this-2=$(cat "$work/this.dirs")" 2>&1 | grep -v '^SLF4J\|WARN'
