#!/usr/bin/env bash
# Builds the GPU check bundle (issue 20, "Ready for a GPU machine"): one folder under 60 MiB that runs on a Linux
# x86-64 machine with a GPU driver but no Java and no network: a jlink runtime (java.base, java.logging,
# java.management, jdk.unsupported), the agent's classes, the jars the OpenCL backend needs (JavaCPP, the OpenCL preset
# with its ICD loader, JOCL and jocl-blast for CLBlast, Jackson; no Spark, no ND4J), the golden dumps and run.sh.
#
#   tools/gpu-check/build.sh [OUTPUT_DIR]        default: tools/gpu-check/target/fql-gpu-check
#
# Needs the JDK that builds the project (jlink; JLINK overrides) and the agent module compiled
# (mvn -B -pl spark-jobs/fql-agent -DskipTests package). FQL_CLASSPATH, when set, is the agent's dependency classpath
# (the test that builds the bundle in CI passes its own); otherwise Maven prints it (FQL_MAVEN_ARGS=-o to stay offline).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${1:-$HERE/target/fql-gpu-check}
LIMIT=$((60 * 1024 * 1024))
CLASSES="$ROOT/spark-jobs/fql-agent/target/classes"
if [ ! -f "$CLASSES/org/fqlspark/bench/GpuCheck.class" ]; then
  echo "build.sh: compile the agent first: mvn -B -pl spark-jobs/fql-agent -DskipTests package" >&2
  exit 1
fi
CP=${FQL_CLASSPATH:-}
if [ -z "$CP" ]; then
  tmp=$(mktemp)
  (cd "$ROOT" && mvn -q -B ${FQL_MAVEN_ARGS:-} -pl spark-jobs/fql-agent dependency:build-classpath -Dmdep.outputFile="$tmp") >&2
  CP=$(cat "$tmp")
  rm -f "$tmp"
fi
JLINK=${JLINK:-$(command -v jlink || true)}
if [ -z "$JLINK" ]; then
  echo "build.sh: no jlink (a JDK 17's bin/jlink; set JLINK)" >&2
  exit 1
fi

rm -rf "$OUT"
mkdir -p "$OUT/lib" "$OUT/golden"
jar cf "$OUT/lib/fql-agent.jar" -C "$CLASSES" .
copied=0
IFS=: read -ra jars <<< "$CP"
for j in "${jars[@]}"; do
  case "$(basename "$j")" in
    javacpp-1.*.jar | opencl-*.jar | jocl-*.jar | jackson-core-2.*.jar | jackson-databind-2.*.jar | jackson-annotations-2.*.jar)
      cp "$j" "$OUT/lib/"
      copied=$((copied + 1)) ;;
  esac
done
if [ "$copied" -ne 9 ]; then
  echo "build.sh: expected 9 jars (javacpp and its linux-x86_64 natives, opencl and its natives, jocl and jocl-blast, 3 Jackson), found $copied in the classpath" >&2
  exit 1
fi
"$JLINK" --add-modules java.base,java.logging,java.management,jdk.unsupported --strip-debug --no-header-files --no-man-pages --compress=2 \
  --output "$OUT/runtime"
cp "$ROOT"/spark-jobs/fql-agent/src/test/resources/golden/*.json "$OUT/golden/"
cp "$HERE/run.sh" "$OUT/run.sh"
chmod +x "$OUT/run.sh"

size=$(du -sb "$OUT" | cut -f1)
echo "GPU check bundle: $OUT, $((size / 1024 / 1024)) MiB ($size bytes; limit 60 MiB)"
if [ "$size" -ge "$LIMIT" ]; then
  echo "build.sh: the bundle is $size bytes, over the 60 MiB a GPU machine run may carry" >&2
  exit 1
fi
