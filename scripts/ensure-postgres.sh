#!/usr/bin/env bash
# Makes sure the local PostgreSQL server that the store's tests use (127.0.0.1:5432, trust auth) is up; starts the
# machine's cluster when it is down. Idempotent. MEDIC_TEST_POSTGRES overrides the server the tests use.
set -euo pipefail
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  exit 0
fi
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  version=$(ls /etc/postgresql | head -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
fi
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && exit 0
  sleep 1
done
echo "PostgreSQL is not reachable on 127.0.0.1:5432; the store's tests need it" >&2
exit 1
