#!/usr/bin/env bash
# Installs the Debian packages the tests talk to (run by `npm test` before the tests).
# Real clients, not mocks: swaks, mpop, mbsync (isync), dig (bind9-dnsutils), named-checkzone (bind9-utils), sftp (openssh-client), the pebble ACME test CA, Python's smtplib/poplib, curl, prometheus_client's parser,
# Debian's chromium (driven by playwright-core) with a Japanese font for the member site's pages,
# oathtool for one-time codes that our TOTP code did not make; and the PostgreSQL the postgres
# backend's tests use (127.0.0.1:5432, trust auth, database test; pgbench for the benchmark), started when it is not running.
set -euo pipefail
need=()
command -v python3 >/dev/null || need+=(python3)
command -v swaks >/dev/null || need+=(swaks)
command -v mpop >/dev/null || need+=(mpop)
command -v mbsync >/dev/null || need+=(isync)
command -v dig >/dev/null || need+=(bind9-dnsutils)
command -v dnsperf >/dev/null || need+=(dnsperf)
command -v named-checkzone >/dev/null || need+=(bind9-utils)
command -v sftp >/dev/null || need+=(openssh-client)
command -v pebble >/dev/null || need+=(pebble)
# The benchmark's static-file scenario: wrk against the web role and nginx side by side.
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx-light)
command -v curl >/dev/null || need+=(curl)
command -v oathtool >/dev/null || need+=(oathtool)
command -v mount >/dev/null || need+=(mount)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -d /usr/share/fonts/opentype/ipafont-gothic ] || need+=(fonts-ipafont-gothic)
# Debian's own python3 reads /metrics with the Prometheus project's parser.
/usr/bin/python3 -c 'import prometheus_client.parser' 2>/dev/null || need+=(python3-prometheus-client)
fresh_postgres=no
command -v pg_ctlcluster >/dev/null || { need+=(postgresql); fresh_postgres=yes; }
# The benchmark's smoke run measures PostgreSQL's own limit with pgbench.
command -v pgbench >/dev/null || need+=(postgresql-client)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "npm test needs these Debian packages: ${need[*]}" >&2
    echo "install them with: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
  echo "installing Debian packages the tests use: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi

# PostgreSQL on 127.0.0.1:5432 with trust auth for the tests, and its database test.
if [ "$fresh_postgres" = yes ]; then
  hba=$(ls /etc/postgresql/*/main/pg_hba.conf | head -1)
  sed -i -E 's/^(host\s+all\s+all\s+127\.0\.0\.1\/32\s+)\S+/\1trust/' "$hba"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main restart
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "starting PostgreSQL for the tests"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! psql -h 127.0.0.1 -U postgres -Atc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1; then
  createdb -h 127.0.0.1 -U postgres test
fi
