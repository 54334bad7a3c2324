#!/usr/bin/env bash
# Build a Postgres image without any container registry, for air-gapped machines and CI.
#
#   scripts/build-postgres-image.sh [--rebuild] [IMAGE]      (default IMAGE: sessionbench/postgres:15)
#
# Needs root, debootstrap and a Docker engine (DOCKER_HOST is honoured).  A Debian
# bookworm minbase with postgresql-15 is bootstrapped from the Debian mirror in the
# machine's apt sources (or $DEBIAN_MIRROR) and imported with `docker import`.  Its
# entrypoint honours POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB like the official
# image, so testcontainers' PostgresContainer drives it unchanged.  Use it with
# `SESSIONBENCH_POSTGRES_IMAGE=IMAGE sessionbench run --db postgres`.
# An image that already exists is kept (building takes a minute or so) unless --rebuild.
set -euo pipefail

rebuild=false
if [[ "${1:-}" == "--rebuild" ]]; then rebuild=true; shift; fi
image="${1:-sessionbench/postgres:15}"

if ! $rebuild && docker image inspect "$image" >/dev/null 2>&1; then
    echo "image $image already exists (--rebuild to build it again)"
    exit 0
fi

mirror="${DEBIAN_MIRROR:-$( (grep -rhoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' \
    /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null || true) | awk 'NR==1 {print $2}')}"
mirror="${mirror:-http://deb.debian.org/debian}"

root=$(mktemp -d /var/tmp/sessionbench-image-XXXXXX)
trap 'rm -rf "$root"' EXIT

debootstrap --variant=minbase --include=postgresql-15 bookworm "$root/fs" "$mirror" \
    >"$root/debootstrap.log" 2>&1 || { tail -n 20 "$root/debootstrap.log" >&2; exit 1; }
rm -rf "$root"/fs/var/cache/apt/archives/*.deb "$root"/fs/var/lib/apt/lists/*

cat >"$root/fs/usr/local/bin/docker-entrypoint.sh" <<'ENTRYPOINT'
#!/bin/sh
# Like the official image: a cluster for POSTGRES_USER/POSTGRES_PASSWORD/POSTGRES_DB,
# password (SCRAM) auth from anywhere, listening on all addresses.
set -eu
bin=/usr/lib/postgresql/15/bin
data=/var/lib/postgresql/data
user="${POSTGRES_USER:-postgres}"
db="${POSTGRES_DB:-$user}"
if [ -z "${POSTGRES_PASSWORD:-}" ]; then
    echo "docker-entrypoint: POSTGRES_PASSWORD must be set" >&2
    exit 1
fi
mkdir -p "$data" /run/postgresql
chown postgres:postgres "$data" /run/postgresql
if [ ! -s "$data/PG_VERSION" ]; then
    pwfile=$(mktemp)
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    chown postgres "$pwfile"
    su postgres -s /bin/sh -c "$bin/initdb -D $data -U '$user' --pwfile=$pwfile \
        --auth-local=trust --auth-host=scram-sha-256 -E UTF8" >/dev/null
    rm -f "$pwfile"
    echo "host all all all scram-sha-256" >>"$data/pg_hba.conf"
    if [ "$db" != "postgres" ]; then
        su postgres -s /bin/sh -c "$bin/postgres --single -D $data postgres" >/dev/null <<SQL
CREATE DATABASE "$db" OWNER "$user";
SQL
    fi
fi
exec su postgres -s /bin/sh -c "exec $bin/postgres -D $data -c listen_addresses='*'"
ENTRYPOINT
chmod 755 "$root/fs/usr/local/bin/docker-entrypoint.sh"

tar -C "$root/fs" -c . | docker import \
    -c 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' -c 'EXPOSE 5432' \
    -c 'ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    - "$image" >/dev/null
echo "built $image"
