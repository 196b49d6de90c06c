#!/usr/bin/env bash
# Installs PostgreSQL 15 from Debian's packages when it is missing, for the store's tests and
# benchmarks (internal/dev/pgtest runs /usr/lib/postgresql/15/bin/postgres in a temporary
# directory; nothing is configured system-wide and no cluster is created).
#
#   hack/postgres.sh          install postgresql-15 unless its server binary is there
#   hack/postgres.sh --check  only say whether it is there (exit 1 when not)
#
# Debian's package also creates the unprivileged "postgres" account that pgtest runs the
# server as when the tests run as root (postgres refuses to run as root). On another system,
# install PostgreSQL 15 by its own means and point SPARKPLANE_POSTGRES_BIN at the directory
# holding initdb and postgres.
set -euo pipefail

bin=/usr/lib/postgresql/15/bin/postgres

if [[ -x "$bin" ]]; then
  [[ "${1:-}" == "--check" ]] || echo "postgresql-15 is installed ($bin)" >&2
  exit 0
fi
if [[ "${1:-}" == "--check" ]]; then
  echo "postgresql-15 is missing ($bin); run hack/postgres.sh" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "no $bin and no apt-get: install PostgreSQL 15 and set SPARKPLANE_POSTGRES_BIN to its bin directory" >&2
  exit 1
fi
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  sudo=(sudo)
fi
echo "installing postgresql-15 (Debian package) ..." >&2
# Where an init system runs, the package also starts a system-wide cluster on port 5432; the
# tests never use it (each starts its own server on a unix socket).
"${sudo[@]}" apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql-15
if [[ ! -x "$bin" ]]; then
  echo "postgresql-15 installed, but $bin is still missing" >&2
  exit 1
fi
echo "postgresql-15 is installed ($bin)" >&2
