#!/usr/bin/env bash
# Installs what the tests need (Debian packages, Go modules) and runs every
# check CI runs. Run as root: the kernel tests use private network namespaces.
set -euo pipefail
cd "$(dirname "$0")"
export PATH="$PATH:/usr/local/go/bin"

if [ "$(id -u)" != 0 ]; then
  echo "test.sh: run as root (sudo ./test.sh): the kernel tests need private network namespaces" >&2
  exit 1
fi

need=()
for pkg in chromium procps iproute2 util-linux sqlite3 systemd prometheus rsyslog lintian adduser man-db postgresql; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

go mod download

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted" >&2; exit 1; fi

echo "== templ generate is up to date"
go tool templ generate >/dev/null
if [ -n "$(git status --porcelain -- '*_templ.go')" ]; then
  git status --porcelain -- '*_templ.go' >&2
  echo "templ generate changed *_templ.go: run 'go tool templ generate' and commit" >&2
  exit 1
fi

echo "== go vet"
go vet ./...

echo "== pure-Go build (CGO_ENABLED=0)"
CGO_ENABLED=0 go build -o /dev/null .

echo "== PostgreSQL: a throwaway cluster for the db tests' second store"
# Every db test runs on SQLite and on PostgreSQL (dbtest.Each). The
# cluster lives in a temp dir, as the unprivileged postgres user, on a
# Unix socket only, and is stopped and removed on exit. If it cannot
# start, the PostgreSQL halves skip with the reason, which fails under CI.
pgdir=$(mktemp -u /tmp/portpanel-pg.XXXXXX)
trap 'db/dbtest/pgcluster.sh stop "$pgdir"' EXIT
if PORTPANEL_TEST_PG=$(db/dbtest/pgcluster.sh start "$pgdir" 2>"$pgdir.err"); then
  export PORTPANEL_TEST_PG
else
  export PORTPANEL_TEST_PG_ERROR="the cluster did not start: $(tr '\n' ' ' <"$pgdir.err")"
  echo "test.sh: PostgreSQL $PORTPANEL_TEST_PG_ERROR" >&2
fi
rm -f "$pgdir.err"

# Tests that restart PostgreSQL must not do it while other packages'
# tests use the cluster: the main run skips them, and they run after it,
# one package at a time, on the same throwaway cluster, which
# PORTPANEL_TEST_PG_CTL names (without it they skip, failing under CI).
serial='^(TestFleetIntegration)$'
serial_pkgs=(.)

echo "== go test -race (fuzz seed corpora included)"
CI=${CI:-1} go test -race -count=1 -timeout 20m -skip "$serial" ./...

echo "== tests that restart PostgreSQL, serially (the fleet integration test)"
if [ -n "${PORTPANEL_TEST_PG:-}" ]; then export PORTPANEL_TEST_PG_CTL=$pgdir; fi
CI=${CI:-1} go test -count=1 -p 1 -timeout 15m -run "$serial" "${serial_pkgs[@]}"
echo "== bench/run.sh --quick (smoke: targets printed, not enforced; see BENCHMARKS.md)"; bench/run.sh --quick
