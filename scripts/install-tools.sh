#!/usr/bin/env bash
# Installs the system tools the tests use that pip cannot provide: Prometheus
# (`prometheus` and `promtool`, Debian package `prometheus`) for the rule checks
# and the end-to-end scrape test. Does nothing when they are already there.
set -euo pipefail

if command -v promtool >/dev/null && command -v prometheus >/dev/null; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# --no-install-recommends keeps out the node exporter and the web console assets;
# the package's service is not started (there is no systemd here, and the tests
# start their own server on a free port).
$SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
promtool --version | head -n 1
