#!/usr/bin/env bash
# Stages what one image needs into deploy/docker/build/<image>/, the Docker build context:
#   app/<module>.jar          the module's own jar (mvn package); the orchestrator image runs the `cli`
#                             module (the ncalign command line), the servers their own modules
#   lib/NNN-<name>.jar        its runtime dependencies, numbered in Maven's class-path order
#   classpath.args            "-cp app/...:lib/..." for `java @classpath.args` (keeps that order)
#
#   deploy/docker/stage.sh policy-server|reward-server|orchestrator [extra mvn args, e.g. -Pgpu]
#
# Then, from the repository root:
#   docker build -f deploy/docker/policy-server.Dockerfile -t ncalign/policy-server:0.1.0 deploy/docker/build/policy-server
set -euo pipefail
image="${1:?usage: stage.sh policy-server|reward-server|orchestrator [mvn args]}"
shift
case "$image" in
  policy-server|reward-server) module="$image" ;;
  orchestrator) module=cli ;;
  *) echo "stage.sh: unknown image $image (policy-server, reward-server or orchestrator)" >&2; exit 2 ;;
esac
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="$root/deploy/docker/build/$image"
cd "$root"
[ -d "$module" ] || { echo "stage.sh: no module $module in $root" >&2; exit 2; }

# Jars of the module and of the modules it depends on, and its runtime class path (reactor jars
# resolve to their target/*.jar because package runs in the same reactor).
mvn -B -q package -DskipTests -pl "$module" -am "$@" \
  dependency:build-classpath -Dmdep.includeScope=runtime -Dmdep.outputFile="$root/$module/target/docker-classpath.txt"

jar="$(find "$module/target" -maxdepth 1 -name "$module-*.jar" ! -name '*-sources.jar' ! -name '*-tests.jar' | head -n 1)"
[ -n "$jar" ] || { echo "stage.sh: no jar in $module/target" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out/app" "$out/lib"
cp "$jar" "$out/app/$module.jar"
cp_entries="/opt/ncalign/app/$module.jar"
i=0
IFS=':' read -r -a entries < "$module/target/docker-classpath.txt" || true  # no final newline
for entry in "${entries[@]}"; do
  [ -n "$entry" ] || continue
  if [ -d "$entry" ]; then
    echo "stage.sh: class path entry $entry is a directory, expected a jar" >&2
    exit 1
  fi
  name="$(printf '%03d' "$i")-$(basename "$entry")"
  cp "$entry" "$out/lib/$name"
  cp_entries="$cp_entries:/opt/ncalign/lib/$name"
  i=$((i + 1))
done
printf -- '-cp %s\n' "$cp_entries" > "$out/classpath.args"
echo "staged $image ($module): $((i + 1)) jars, $(du -sh "$out" | cut -f1) in $out"
