# Sourced by the launchers in this directory: sets CP to the module's runtime classpath, compiling first if needed.
MODULE="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -f "$MODULE/target/classpath.txt" ] || [ ! -d "$MODULE/target/classes" ]; then
  # Maven's output goes to stderr: a parent process reads only "listening on port N" from stdout.
  mvn -q -f "$MODULE/../pom.xml" -pl reward-server -am process-classes 1>&2
fi
CP="$MODULE/target/classes:$(cat "$MODULE/target/classpath.txt")"
