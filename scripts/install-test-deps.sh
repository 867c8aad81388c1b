#!/usr/bin/env bash
# Installs what the tests need beyond the Rust toolchain, on a Debian 12 machine of this kind:
# PostgreSQL 15 server binaries (the tests start throwaway servers themselves; no service is
# started here), libfaketime (one cluster test skews a replica's clock), for the chaos run
# on other engines MariaDB 10.11 (`mariadbd`) and PgBouncer 1.18, and an OCI registry
# (docker-registry) for the plugin distribution tests (the tests start those themselves too).
# Idempotent: a quick no-op when everything is present.
set -euo pipefail
say() { echo "install-test-deps: $*" >&2; }
sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if [ -x /usr/lib/postgresql/15/bin/initdb ] && [ -x /usr/lib/postgresql/15/bin/pg_ctl ]; then
    say "PostgreSQL 15 server binaries present"
else
    say "installing PostgreSQL 15 server binaries"
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
fi

# libfaketime: the cluster tests run one replica with its clock 30 s ahead.
if [ -f /usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1 ] || command -v faketime >/dev/null 2>&1; then
    say "faketime present"
else
    say "installing faketime"
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq faketime >/dev/null
fi

# MariaDB and PgBouncer: `chaos --db mariadb|pgbouncer` and their helpers' tests start throwaway
# servers (tests/src/mariadb.rs, tests/src/pgbouncer.rs). Installing a package must not start
# its service: policy-rc.d refuses every start for the duration of the install.
install_without_starting() {
    local policy=/usr/sbin/policy-rc.d created=""
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | sudo_if_needed tee "$policy" >/dev/null
        sudo_if_needed chmod +x "$policy"
        created=1
    fi
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    if [ -n "$created" ]; then sudo_if_needed rm -f "$policy"; fi
}
if command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ]; then
    say "MariaDB server present"
else
    say "installing MariaDB server"
    install_without_starting mariadb-server
fi
if command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ]; then
    say "PgBouncer present"
else
    say "installing PgBouncer"
    install_without_starting pgbouncer
fi

# An OCI registry (Docker's distribution) for the plugin distribution tests, which start
# their own on loopback, and htpasswd for the one that requires credentials.
if command -v docker-registry >/dev/null 2>&1 && command -v htpasswd >/dev/null 2>&1; then
    say "docker-registry and htpasswd present"
else
    say "installing docker-registry and apache2-utils (htpasswd)"
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry apache2-utils >/dev/null
fi
