# shellcheck shell=bash disable=SC2034 # settings below are used by the sourcing scripts
#
# Shared helpers for deploy/local/{up,down,status}. Sourced, never executed.
#
# The local stack is four services on loopback:
#   tansu         Kafka-compatible broker        127.0.0.1:9092   (started by `up`)
#   postgres      the machine's PostgreSQL       127.0.0.1:5432   (ensured, never stopped)
#   osmem-server  OpenSearch-compatible server   127.0.0.1:9200   (started by `up`)
#   prometheus    our own Prometheus instance    127.0.0.1:9090   (started by `up`)
#
# Services started by `up` keep `<name>.pid` and `<name>.log` in the state dir.

# --- locations and settings ---------------------------------------------------

PT_LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PT_REPO_ROOT="$(cd "$PT_LOCAL_DIR/../.." && pwd)"

PT_STATE_DIR="${PORTTRACK_STACK_DIR:-$PT_REPO_ROOT/.porttrack/stack}"
# tansu runs with its cwd in the state dir, so the path must be absolute.
case $PT_STATE_DIR in /*) ;; *) PT_STATE_DIR="$PWD/$PT_STATE_DIR" ;; esac
PT_ENV_FILE="$PT_STATE_DIR/stack.env"
PT_LOCK_FILE="$PT_STATE_DIR/.lock"

PT_CACHE="${PORTTRACK_CACHE:-/var/cache/porttrack}"
PT_TANSU_VERSION=0.6.0
PT_TANSU_ROOT="$PT_CACHE/tansu-$PT_TANSU_VERSION"
PT_TANSU_BIN="${TANSU_BIN:-$PT_TANSU_ROOT/bin/tansu}"
# sqlite by default: durable across restarts, and correct when a consumer
# fetches from an offset inside a producer batch. tansu 0.6's memory:// engine
# (dynostore) serves only batches whose *base* offset is at or after the fetch
# offset, silently skipping the rest of the batch that holds it; a consumer that
# resumes or restarts mid-batch loses records (seen: 30-200 per resume).
PT_TANSU_STORAGE="${PORTTRACK_TANSU_STORAGE:-sqlite://tansu.db}"

# Upper bound (seconds) for every readiness wait.
PT_READY_TIMEOUT="${PORTTRACK_READY_TIMEOUT:-60}"

PT_HOST=127.0.0.1
PT_KAFKA_ADDR="$PT_HOST:9092"
PT_KAFKA_URL="tcp://$PT_KAFKA_ADDR"
PT_PG_PORT=5432
PT_PG_DB=porttrack
PT_PG_URL="postgres://postgres@$PT_HOST:$PT_PG_PORT/$PT_PG_DB"
PT_ES_ADDR="$PT_HOST:9200"
PT_ES_URL="http://$PT_ES_ADDR"
PT_PROM_ADDR="$PT_HOST:9090"
PT_PROM_URL="http://$PT_PROM_ADDR"
PT_PROM_CONFIG="$PT_LOCAL_DIR/prometheus.yml"

PT_TOPICS=(ais.positions ais.static ais.nmea weather.observations terminal.cargo port.operations porttrack.dead-letter)

# Plain logs and messages: tansu colours its output with ANSI codes otherwise.
export NO_COLOR=1

# --- output -------------------------------------------------------------------

pt_say() { printf '%s\n' "$*"; }
pt_warn() { printf 'WARNING: %s\n' "$*" >&2; }

# pt_fail SERVICE MESSAGE [LOGFILE]
# One clear error line naming the service, the log's last 20 lines, exit 1.
pt_fail() {
  local service=$1 message=$2 log=${3:-}
  printf 'ERROR: %s: %s\n' "$service" "$message" >&2
  if [[ -n $log && -s $log ]]; then
    printf -- '--- last 20 lines of %s ---\n' "$log" >&2
    tail -n 20 "$log" >&2
    printf -- '--- end of %s ---\n' "$log" >&2
  fi
  exit 1
}

# --- per-service files ----------------------------------------------------------

pt_pidfile() { printf '%s/%s.pid' "$PT_STATE_DIR" "$1"; }
pt_logfile() { printf '%s/%s.log' "$PT_STATE_DIR" "$1"; }

# Process name (/proc/PID/comm) each managed service runs under; used to tell
# our process from an unrelated one that reused a stale pid. (So TANSU_BIN must
# be the tansu executable or a symlink to it, not a wrapper script.)
pt_comm() {
  case $1 in
    tansu) # the kernel keeps the first 15 bytes of the executable's name
      local exe=${PT_TANSU_BIN##*/}
      printf '%s' "${exe:0:15}"
      ;;
    osmem-server) printf 'osmem-server' ;;
    prometheus) printf 'prometheus' ;;
    *) return 1 ;;
  esac
}

# pt_pid_alive PID: the process exists and is not a zombie.
pt_pid_alive() {
  local stat
  kill -0 "$1" 2>/dev/null || return 1
  { stat=$(<"/proc/$1/stat"); } 2>/dev/null || return 1
  stat=${stat##*) } # drop "pid (comm) ", leaving "STATE ppid ..."
  [[ ${stat%% *} != Z ]]
}

# pt_running_pid NAME: print the pid from NAME's pidfile if that process is
# alive and really is NAME (not an unrelated process that reused a stale pid);
# status 1 otherwise.
pt_running_pid() {
  local name=$1 pidfile pid comm
  pidfile=$(pt_pidfile "$name")
  [[ -r $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  pt_pid_alive "$pid" || return 1
  { comm=$(<"/proc/$pid/comm"); } 2>/dev/null || return 1
  [[ $comm == "$(pt_comm "$name")" ]] || return 1
  printf '%s\n' "$pid"
}

# pt_spawn NAME WORKDIR CMD...: start CMD detached (own session via setsid,
# nohup, stdin from /dev/null, stdout+stderr to NAME's log) and record its pid.
# The previous log is kept as NAME.log.prev. Inherited descriptors above 2 are
# closed first: the up/down lock (fd 9) would otherwise be held by the daemon
# for its whole life, and so would any pipe of the caller.
pt_spawn() {
  local name=$1 dir=$2 log
  shift 2
  log=$(pt_logfile "$name")
  if [[ -f $log ]]; then mv -f "$log" "$log.prev"; fi
  printf '### %s: started by deploy/local/up at %s in %s\n### %s\n' \
    "$name" "$(date '+%F %T')" "$dir" "$*" >"$log"
  (
    cd "$dir" || exit 1
    for fd in /proc/"$BASHPID"/fd/*; do
      fd=${fd##*/}
      if ((fd > 2)); then exec {fd}>&-; fi
    done
    exec setsid nohup "$@" >>"$log" 2>&1 </dev/null
  ) &
  printf '%s\n' "$!" >"$(pt_pidfile "$name")"
}

# pt_stop NAME: stop NAME by its pidfile (TERM, then KILL after 15 s).
pt_stop() {
  local name=$1 pid i
  if ! pid=$(pt_running_pid "$name"); then
    rm -f "$(pt_pidfile "$name")"
    pt_say "$name: not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    pt_warn "$name (pid $pid) ignored SIGTERM for 15 s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$(pt_pidfile "$name")"
  pt_say "$name: stopped (pid $pid)"
}

# --- probes (status 0 = ready) ----------------------------------------------------

# pt_tcp_open HOST PORT: something accepts TCP connections there.
pt_tcp_open() {
  # shellcheck disable=SC2016 # $1/$2 are expanded by the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}

pt_http_ok() { curl -sf -o /dev/null --max-time 2 "$1"; }

pt_psql() {
  PGCONNECT_TIMEOUT=3 psql -h "$PT_HOST" -p "$PT_PG_PORT" -U postgres -X -q -t -A "$@"
}

# pt_probe NAME: the real readiness check of each service.
pt_probe() {
  case $1 in
    tansu) pt_tcp_open "$PT_HOST" 9092 ;;
    postgres) pt_psql -d postgres -c 'select 1' >/dev/null 2>&1 ;;
    osmem-server) pt_http_ok "$PT_ES_URL/" ;;
    prometheus) pt_http_ok "$PT_PROM_URL/-/ready" ;;
    *) return 1 ;;
  esac
}

pt_pg_has_db() {
  [[ $(pt_psql -d postgres -c "select 1 from pg_database where datname = '$PT_PG_DB'" 2>/dev/null) == 1 ]]
}

# pt_port_owner PORT: "python3 (pid 123)" for whoever listens on PORT.
pt_port_owner() {
  local line re='users:\(\("([^"]+)",pid=([0-9]+)'
  line=$(ss -Hltnp "sport = :$1" 2>/dev/null | head -n 1) || true
  if [[ $line =~ $re ]]; then
    printf '%s (pid %s)' "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}"
  else
    printf 'another process'
  fi
}

# pt_wait_ready NAME: wait (bounded) until NAME's probe passes while the
# process in its pidfile stays alive. On death or timeout: fail with the log
# tail (a process that timed out is stopped, so the next `up` starts afresh).
# Liveness is checked by pid only: right after pt_spawn the process may not
# have exec'd the service binary yet, so its name is checked once it is ready.
pt_wait_ready() {
  local name=$1 deadline=$((SECONDS + PT_READY_TIMEOUT)) log pid pidfile
  log=$(pt_logfile "$name")
  pidfile=$(pt_pidfile "$name")
  pid=$(<"$pidfile")
  while :; do
    if ! pt_pid_alive "$pid"; then
      rm -f "$pidfile"
      pt_fail "$name" "process exited during startup (log: $log)" "$log"
    fi
    if pt_probe "$name" && pt_running_pid "$name" >/dev/null; then return 0; fi
    if ((SECONDS >= deadline)); then
      kill -TERM "$pid" 2>/dev/null || true
      rm -f "$pidfile"
      pt_fail "$name" "not ready after ${PT_READY_TIMEOUT}s, stopped it (log: $log)" "$log"
    fi
    sleep 0.2
  done
}

# --- tansu helpers -------------------------------------------------------------------

# pt_tansu_topics: print "NAME PARTITIONS" for every topic on the broker.
pt_tansu_topics() {
  local json
  # Listing is slow when the broker is busy (seen: 9 s and more while
  # several test suites share it): allow a minute, and one retry.
  json=$(timeout 60 "$PT_TANSU_BIN" topic list --broker "$PT_KAFKA_URL" 2>&1) ||
    json=$(timeout 60 "$PT_TANSU_BIN" topic list --broker "$PT_KAFKA_URL" 2>&1) || {
    printf '%s\n' "$json" >&2
    return 1
  }
  python3 -c '
import json, sys
for t in json.load(sys.stdin):
    print(t["name"], len(t.get("partitions") or []))
' <<<"$json"
}

# --- status lines (shared by `status` and the summary of `up`) ------------------------

# pt_status_line NAME: print one line "up|down  NAME  ADDRESS  (details)";
# status 0 when the service is up (for managed services: our process, alive
# and answering its probe).
pt_status_line() {
  local name=$1 addr state=down detail='' pid topics storage
  case $name in
    tansu) addr=$PT_KAFKA_ADDR ;;
    postgres) addr="$PT_HOST:$PT_PG_PORT" ;;
    osmem-server) addr=$PT_ES_URL ;;
    prometheus) addr=$PT_PROM_URL ;;
    *) printf 'unknown service %s\n' "$name" >&2; return 1 ;;
  esac
  if [[ $name == postgres ]]; then
    if ! pt_probe postgres; then
      detail='not accepting connections as user postgres'
    elif ! pt_pg_has_db; then
      detail="server up, but database $PT_PG_DB is missing"
    else
      state=up detail="database $PT_PG_DB; machine service, left running by down"
    fi
  elif pid=$(pt_running_pid "$name"); then
    if pt_probe "$name"; then
      state=up detail="pid $pid"
      if [[ $name == tansu ]]; then
        storage=$(cat "$PT_STATE_DIR/tansu.storage" 2>/dev/null || printf '?')
        topics=$(pt_tansu_topics 2>/dev/null | awk '{printf "%s%s(%s)", sep, $1, $2; sep=" "}') || true
        detail+=", storage $storage, topics: ${topics:-none}"
      fi
    else
      detail="pid $pid alive but not answering"
    fi
  elif pt_probe "$name"; then
    detail="address answered by $(pt_port_owner "${addr##*:}"), not by a process started by up"
  else
    detail='not running'
  fi
  printf '%-5s %-13s %-22s %s\n' "$state" "$name" "$addr" "${detail:+($detail)}"
  [[ $state == up ]]
}

# --- locking ---------------------------------------------------------------------------

# pt_lock: serialise up/down on fd 9 (released when the script exits).
pt_lock() {
  mkdir -p "$PT_STATE_DIR"
  exec 9>"$PT_LOCK_FILE"
  if ! flock -n 9; then
    pt_say "waiting for another deploy/local/up or down to finish ..."
    flock 9
  fi
}
