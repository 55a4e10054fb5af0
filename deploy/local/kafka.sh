#!/usr/bin/env bash
# A real single-node Kafka 4.x broker (KRaft, broker + controller in one JVM) on 127.0.0.1,
# assembled from Maven Central jars; data and logs under var/kafka/.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
dir="$root/var/kafka"
libs="$dir/libs"
port="${KONGFU_KAFKA_PORT:-19092}"
controller_port="${KONGFU_KAFKA_CONTROLLER_PORT:-19093}"
pidfile="$dir/kafka.pid"

java_bin() {
  if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then echo "$JAVA_HOME/bin/java"
  elif [ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/java ]; then echo /usr/lib/jvm/java-17-openjdk-amd64/bin/java
  else command -v java || { echo "java 17 not found: apt-get install -y openjdk-17-jre-headless" >&2; exit 1; }
  fi
}

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

fetch_jars() {
  # The marker is written only after a complete copy, so an interrupted download is redone.
  local marker="$libs/.complete-$(cksum "$here/pom.xml" | cut -d' ' -f1)"
  [ -f "$marker" ] && return 0
  command -v mvn >/dev/null || { echo "maven not found: apt-get install -y maven" >&2; exit 1; }
  echo "kafka: fetching broker jars from Maven Central (first run only)"
  rm -rf "$libs"
  mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:copy-dependencies -DoutputDirectory="$libs" -DincludeScope=runtime
  touch "$marker"
}

write_config() {
  mkdir -p "$dir/data"
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.quorum.bootstrap.servers=127.0.0.1:$controller_port
log.dirs=$dir/data
num.partitions=3
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
log.retention.hours=-1
PROPS
  cat >"$dir/log4j2.properties" <<LOG
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = $dir/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.state.name = state.change.logger
logger.state.level = WARN
LOG
}

start() {
  if running; then echo "kafka already running (pid $(cat "$pidfile"))"; return 0; fi
  fetch_jars
  write_config
  local java; java="$(java_bin)"
  local cp="$libs/*"
  if [ ! -f "$dir/data/meta.properties" ]; then
    "$java" -cp "$cp" -Dlog4j2.configurationFile="$dir/log4j2.properties" kafka.tools.StorageTool \
      format --standalone -t "$("$java" -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)" \
      -c "$dir/server.properties" >"$dir/format.log" 2>&1 || { cat "$dir/format.log" >&2; exit 1; }
  fi
  nohup "$java" -Xms256m -Xmx512m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$dir/log4j2.properties" -cp "$cp" kafka.Kafka "$dir/server.properties" \
    >"$dir/stdout.log" 2>&1 &
  echo $! >"$pidfile"
  if ! python3 "$here/kafka_ready.py" "127.0.0.1:$port" "${KONGFU_KAFKA_START_TIMEOUT:-90}"; then
    tail -30 "$dir/server.log" "$dir/stdout.log" >&2 || true
    stop; exit 1
  fi
  echo "kafka ready on 127.0.0.1:$port"
}

stop() {
  if running; then
    local pid; pid="$(cat "$pidfile")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
    echo "kafka stopped"
  fi
  rm -f "$pidfile"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) running && echo "kafka running on 127.0.0.1:$port" || echo "kafka stopped" ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
