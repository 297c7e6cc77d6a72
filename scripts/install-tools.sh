#!/usr/bin/env bash
# Installs the system tools the tests use that pip cannot provide, from Debian:
# * Prometheus (`prometheus` and `promtool`) for the rule checks and the
#   end-to-end scrape test;
# * Go with protoc-gen-go, protoc-gen-go-grpc and the grpc-go and protobuf sources
#   for tests/e2e/test_go_client.py, which builds in GOPATH mode because Go modules
#   cannot be downloaded here.
# Does nothing when they are already there.
set -euo pipefail

# golang-google-grpc-dev accepts either golang/protobuf 1.3 or 1.5; only 1.5 can
# marshal the messages protoc-gen-go 1.28 generates (1.3 panics on the first call),
# so it is named here and checked for by package, not by command.
GO_PACKAGES=(
    golang-go
    protoc-gen-go
    protoc-gen-go-grpc
    golang-google-grpc-dev
    golang-google-protobuf-dev
    golang-github-golang-protobuf-1-5-dev
)

missing=()
if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
    missing+=(prometheus)
fi
if ! dpkg -s "${GO_PACKAGES[@]}" >/dev/null 2>&1; then
    missing+=("${GO_PACKAGES[@]}")
fi
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
else
    SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# --no-install-recommends keeps out Prometheus's node exporter and web console
# assets; its service is not started (there is no systemd here, and the tests
# start their own server on a free port).
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "installed: ${missing[*]}"
