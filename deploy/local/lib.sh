# shellcheck shell=bash disable=SC2034 # settings below are used by the sourcing scripts
#
# Shared helpers for deploy/local/{up,down,status}. Sourced, never executed.
#
# The local stack is six services on loopback, every one started by `up`
# and stopped by `down`:
#   kafka         Apache Kafka 4.4.0, KRaft (broker+controller)
#                   PLAINTEXT 127.0.0.1:9092, SASL_SSL (SCRAM-SHA-512) 127.0.0.1:9096,
#                   controller 127.0.0.1:9097
#   postgres      a PostgreSQL cluster of the stack's own   127.0.0.1:5432
#   search        OpenSearch 2.19 (Elasticsearch-API)       http://127.0.0.1:9200
#   prometheus    Prometheus                                http://127.0.0.1:9090
#   alertmanager  Alertmanager                              http://127.0.0.1:9093
#   nginx         TLS in front of `porttrack serve`         https://127.0.0.1:8443
#                   (HTTP 127.0.0.1:8080 redirects), to 127.0.0.1:8088;
#                 and TLS + basic auth in front of search   https://127.0.0.1:9443
#
# Services keep `<name>.pid` (postgres: its postmaster.pid) and `<name>.log`
# in the state dir.

# --- locations and settings ---------------------------------------------------

PT_LOCAL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PT_REPO_ROOT="$(cd "$PT_LOCAL_DIR/../.." && pwd)"

PT_STATE_DIR="${PORTTRACK_STACK_DIR:-$PT_REPO_ROOT/.porttrack/stack}"
case $PT_STATE_DIR in /*) ;; *) PT_STATE_DIR="$PWD/$PT_STATE_DIR" ;; esac
PT_ENV_FILE="$PT_STATE_DIR/stack.env"
PT_LOCK_FILE="$PT_STATE_DIR/.lock"
PT_TLS_DIR="$PT_STATE_DIR/tls"
PT_SECRETS_DIR="$PT_STATE_DIR/secrets"

# Downloads (Maven jars) are cached here across purges and checkouts.
PT_CACHE="${PORTTRACK_CACHE:-/var/cache/porttrack}"
PT_M2="$PT_CACHE/m2"

PT_KAFKA_VERSION=4.4.0
PT_KAFKA_LIB="$PT_CACHE/kafka-$PT_KAFKA_VERSION/lib"
PT_KAFKA_DIR="$PT_STATE_DIR/kafka"
PT_KAFKA_HEAP="${PORTTRACK_KAFKA_HEAP:-1g}"

PT_SEARCH_DIR="$PT_STATE_DIR/search"

# Upper bound (seconds) for every readiness wait.
PT_READY_TIMEOUT="${PORTTRACK_READY_TIMEOUT:-120}"

PT_HOST=127.0.0.1
PT_KAFKA_PORT=9092
PT_KAFKA_SASL_PORT=9096
PT_KAFKA_CONTROLLER_PORT=9097
PT_KAFKA_ADDR="$PT_HOST:$PT_KAFKA_PORT"
PT_KAFKA_SASL_ADDR="$PT_HOST:$PT_KAFKA_SASL_PORT"
PT_KAFKA_SASL_USER=porttrack
PT_PG_PORT=5432
PT_PG_DB=porttrack
PT_PG_URL="postgres://postgres@$PT_HOST:$PT_PG_PORT/$PT_PG_DB"
PT_ES_PORT=9200
PT_ES_URL="http://$PT_HOST:$PT_ES_PORT"
PT_PROM_ADDR="$PT_HOST:9090"
PT_PROM_URL="http://$PT_PROM_ADDR"
PT_PROM_CONFIG="$PT_LOCAL_DIR/prometheus.yml"
PT_AM_ADDR="$PT_HOST:9093"
PT_AM_URL="http://$PT_AM_ADDR"
PT_AM_CONFIG="$PT_LOCAL_DIR/alertmanager.yml"

# nginx (deploy/nginx): TLS termination in front of `porttrack serve`, which
# is not part of the stack (tests and developers start it); without it
# nginx answers 502 for everything but its own redirect and /metrics.
PT_NGINX_DIR="$PT_STATE_DIR/nginx"
PT_NGINX_HTTPS_PORT=8443
PT_NGINX_HTTP_PORT=8080
PT_NGINX_HTTPS_URL="https://$PT_HOST:$PT_NGINX_HTTPS_PORT"
PT_NGINX_HTTP_URL="http://$PT_HOST:$PT_NGINX_HTTP_PORT"
PT_NGINX_UPSTREAM="${PORTTRACK_NGINX_UPSTREAM:-$PT_HOST:8088}"

# The same nginx in front of the search engine: TLS with the stack's CA and
# HTTP basic auth (user porttrack, a random password in the secrets dir; the
# htpasswd file nginx reads holds only its hash), proxying to $PT_ES_URL.
PT_SEARCH_TLS_PORT=9443
PT_SEARCH_TLS_URL="https://$PT_HOST:$PT_SEARCH_TLS_PORT"
PT_SEARCH_USER=porttrack
PT_SEARCH_PASSWORD_FILE="$PT_SECRETS_DIR/search.password"
PT_SEARCH_HTPASSWD="$PT_NGINX_DIR/search.htpasswd"

PT_SERVICES=(kafka postgres search prometheus alertmanager nginx)
PT_TOPICS=(ais.positions ais.static ais.nmea weather.observations terminal.cargo port.operations porttrack.dead-letter)

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

# PostgreSQL's data directory. The server runs as the `postgres` user, which
# must be able to reach it: the state dir when every parent lets it through
# (a checkout under /work or /tmp), /var/lib/porttrack otherwise.
pt_pg_data() {
  local want="$PT_STATE_DIR/postgres"
  if [[ -n ${PORTTRACK_PG_DATA:-} ]]; then
    printf '%s' "$PORTTRACK_PG_DATA"
  elif [[ -f $PT_STATE_DIR/postgres.datadir ]]; then
    cat "$PT_STATE_DIR/postgres.datadir"
  elif ((EUID != 0)) || { id postgres >/dev/null 2>&1 && runuser -u postgres -- test -x "$PT_STATE_DIR" 2>/dev/null; }; then
    printf '%s' "$want"
  else
    printf '%s' "/var/lib/porttrack/postgres"
  fi
}

# pt_marker NAME: a string that the service's /proc/PID/cmdline contains; it
# tells our process from an unrelated one that reused a stale pid (kafka and
# search are both `java`).
pt_marker() {
  case $1 in
    kafka) printf 'kafka.Kafka' ;;
    search) printf 'PortTrackSearchNode' ;;
    prometheus) printf 'prometheus' ;;
    alertmanager) printf 'alertmanager' ;;
    postgres) printf 'postgres' ;;
    nginx) printf 'nginx: master process' ;;
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

# pt_running_pid NAME: print NAME's pid if that process is alive and really is
# NAME; status 1 otherwise.
pt_running_pid() {
  local name=$1 pidfile pid cmdline
  if [[ $name == postgres ]]; then
    pidfile="$(pt_pg_data)/postmaster.pid"
  else
    pidfile=$(pt_pidfile "$name")
  fi
  [[ -r $pidfile ]] || return 1
  pid=$(head -n 1 "$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  pt_pid_alive "$pid" || return 1
  { cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline"); } 2>/dev/null || return 1
  [[ $cmdline == *"$(pt_marker "$name")"* ]] || return 1
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

# pt_stop NAME: stop NAME by its pidfile (TERM, then KILL after 30 s).
pt_stop() {
  local name=$1 pid i
  if ! pid=$(pt_running_pid "$name"); then
    rm -f "$(pt_pidfile "$name")"
    pt_say "$name: not running"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    pt_pid_alive "$pid" || break
    sleep 0.1
  done
  if pt_pid_alive "$pid"; then
    pt_warn "$name (pid $pid) ignored SIGTERM for 30 s; sending SIGKILL"
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

# pt_http_code URL [CURL ARGS...]: the status code of a GET (000: no answer).
pt_http_code() {
  local url=$1
  shift
  curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" "$url" 2>/dev/null || true
}

# Debian's nginx is in /usr/sbin, which a non-root PATH may lack.
pt_nginx_bin() {
  if command -v nginx 2>/dev/null; then return 0; fi
  [[ -x /usr/sbin/nginx ]] && printf '/usr/sbin/nginx\n'
}

# nginx is ready when its own answers come back: the redirect on HTTP, over
# TLS verified with the stack's CA the 404 it gives /metrics, and the search
# front's 401 to a request without credentials. None needs `porttrack serve`
# or the search engine behind it.
pt_nginx_ready() {
  [[ $(pt_http_code "$PT_NGINX_HTTP_URL/") == 301 ]] &&
    [[ $(pt_http_code "$PT_NGINX_HTTPS_URL/metrics" --cacert "$PT_TLS_DIR/ca.pem") == 404 ]] &&
    [[ $(pt_http_code "$PT_SEARCH_TLS_URL/" --cacert "$PT_TLS_DIR/ca.pem") == 401 ]]
}

# pt_search_front_code: the search front's answer to GET / with the stack's
# credentials (200 when nginx and the search engine behind it both answer).
# The password goes to curl on stdin (a config line), never on its command line.
pt_search_front_code() {
  local pw
  pw=$(<"$PT_SEARCH_PASSWORD_FILE") || return 1
  printf 'user = "%s:%s"\n' "$PT_SEARCH_USER" "$pw" |
    pt_http_code "$PT_SEARCH_TLS_URL/" --cacert "$PT_TLS_DIR/ca.pem" --config -
}

pt_psql() {
  PGCONNECT_TIMEOUT=3 psql -h "$PT_HOST" -p "$PT_PG_PORT" -U postgres -X -q -t -A "$@"
}

# Kafka is ready once the broker has registered and answers on both client
# listeners: the log line is written after every acceptor started.
pt_kafka_ready() {
  pt_tcp_open "$PT_HOST" "$PT_KAFKA_PORT" && pt_tcp_open "$PT_HOST" "$PT_KAFKA_SASL_PORT" &&
    grep -q 'Kafka Server started' "$(pt_logfile kafka)" 2>/dev/null
}

# pt_probe NAME: the real readiness check of each service.
pt_probe() {
  case $1 in
    kafka) pt_kafka_ready ;;
    postgres) pt_psql -d postgres -c 'select 1' >/dev/null 2>&1 ;;
    search) [[ $(curl -s --max-time 2 "$PT_ES_URL/_cluster/health?wait_for_status=yellow&timeout=1s" 2>/dev/null) == *'"status":"'[gy]* ]] ;;
    prometheus) pt_http_ok "$PT_PROM_URL/-/ready" ;;
    alertmanager) pt_http_ok "$PT_AM_URL/-/ready" ;;
    nginx) pt_nginx_ready ;;
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
    sleep 0.3
  done
}

# --- kafka helpers -------------------------------------------------------------------

# pt_kafka_topics ARGS...: deploy/local/kafka/Topics.java on the broker's classpath.
pt_kafka_topics() {
  timeout 90 java -cp "$PT_KAFKA_LIB/*" "$PT_LOCAL_DIR/kafka/Topics.java" "$PT_KAFKA_ADDR" "$@"
}

# --- status lines (shared by `status` and the summary of `up`) ------------------------

# pt_status_line NAME: print one line "up|down  NAME  ADDRESS  (details)";
# status 0 when the service is up (our process, alive, answering its probe).
pt_status_line() {
  local name=$1 addr state=down detail='' pid
  case $name in
    kafka) addr="$PT_KAFKA_ADDR" ;;
    postgres) addr="$PT_HOST:$PT_PG_PORT" ;;
    search) addr=$PT_ES_URL ;;
    prometheus) addr=$PT_PROM_URL ;;
    alertmanager) addr=$PT_AM_URL ;;
    nginx) addr=$PT_NGINX_HTTPS_URL ;;
    *) printf 'unknown service %s\n' "$name" >&2; return 1 ;;
  esac
  if pid=$(pt_running_pid "$name"); then
    if pt_probe "$name"; then
      state=up detail="pid $pid"
      case $name in
        kafka) detail+=", Apache Kafka $PT_KAFKA_VERSION KRaft, SASL_SSL on $PT_KAFKA_SASL_ADDR" ;;
        postgres)
          if pt_pg_has_db; then
            detail+=", database $PT_PG_DB, data $(pt_pg_data)"
          else
            state=down detail+=", but database $PT_PG_DB is missing"
          fi
          ;;
        nginx)
          local serve=''
          [[ $(pt_http_code "$PT_NGINX_HTTPS_URL/healthz" --cacert "$PT_TLS_DIR/ca.pem") == 200 ]] || serve=' (not answering)'
          detail+=", HTTP $PT_NGINX_HTTP_URL redirects, serve upstream $PT_NGINX_UPSTREAM$serve"
          local search=''
          [[ $(pt_search_front_code 2>/dev/null) == 200 ]] || search=' (search engine not answering through it)'
          detail+=", search front $PT_SEARCH_TLS_URL (basic auth) to $PT_ES_URL$search"
          ;;
        search) detail+=", $(curl -s --max-time 2 "$PT_ES_URL/" | python3 -c 'import json,sys; v=json.load(sys.stdin)["version"]; print(v.get("distribution","elasticsearch"), v["number"])' 2>/dev/null || printf '?')" ;;
      esac
    else
      detail="pid $pid alive but not answering"
    fi
  elif pt_tcp_open "$PT_HOST" "${addr##*:}"; then
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
