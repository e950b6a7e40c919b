# A throwaway PostgreSQL server for the workspace tests (sourced by .ci/run; by hand: `source .ci/postgres.sh;
# start_test_postgres`, then `stop_test_postgres`). Debian's postgresql, run as the unprivileged `postgres`
# user (the server refuses root), listening on a Unix socket in a private temporary folder only (no TCP).
# Exports CHILDSTAT_TEST_POSTGRES_URL for tests/test_workbench_*.py.

start_test_postgres() {
    if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
        apt-get update -qq
        apt-get install -y -qq postgresql >/dev/null
    fi
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    PG_DIR=$(mktemp -d /tmp/childstat-pg.XXXXXX)
    PG_PORT=54329  # names the socket file only: nothing listens on TCP
    chown postgres "$PG_DIR"
    runuser -u postgres -- "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U childstat >/dev/null
    runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
        -o "-k $PG_DIR -p $PG_PORT -c listen_addresses=''" start >/dev/null
    runuser -u postgres -- "$PG_BIN/createdb" -h "$PG_DIR" -p "$PG_PORT" -U childstat childstat_test
    export CHILDSTAT_TEST_POSTGRES_URL="postgresql://childstat@/childstat_test?host=$PG_DIR&port=$PG_PORT"
    echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') for the workspace tests on $PG_DIR"
}

stop_test_postgres() {
    if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ]; then
        runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
        rm -rf "$PG_DIR"
    fi
}
