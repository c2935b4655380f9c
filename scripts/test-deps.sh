#!/usr/bin/env bash
# Installs the Debian packages the tests talk to (run by `npm test` before the tests).
# Real clients, not mocks: swaks and mpop, Python's smtplib/poplib, curl, prometheus_client's parser,
# Debian's chromium (driven by playwright-core) with a Japanese font for the member site's pages,
# oathtool for one-time codes that our TOTP code did not make.
set -euo pipefail
need=()
command -v python3 >/dev/null || need+=(python3)
command -v swaks >/dev/null || need+=(swaks)
command -v mpop >/dev/null || need+=(mpop)
command -v curl >/dev/null || need+=(curl)
command -v oathtool >/dev/null || need+=(oathtool)
command -v mount >/dev/null || need+=(mount)
[ -x /usr/bin/chromium ] || need+=(chromium)
[ -d /usr/share/fonts/opentype/ipafont-gothic ] || need+=(fonts-ipafont-gothic)
# Debian's own python3 reads /metrics with the Prometheus project's parser.
/usr/bin/python3 -c 'import prometheus_client.parser' 2>/dev/null || need+=(python3-prometheus-client)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "npm test needs these Debian packages: ${need[*]}" >&2
  echo "install them with: sudo apt-get install ${need[*]}" >&2
  exit 1
fi
echo "installing Debian packages the tests use: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${need[@]}" >/dev/null
