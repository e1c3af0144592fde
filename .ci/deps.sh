#!/usr/bin/env bash
# Installs what c9cred's tests need when it is missing: Debian packages
# (gnome-keyring, dbus, secret-tool, AWS CLI v2, tmux, hyperfine), the Go
# modules, the AWS SDK for JavaScript v3 (npm, into .testdeps/js), and checks
# the Python peers that come with the machine (moto_server, AWS CLI v1, boto3).
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have gnome-keyring-daemon || need+=(gnome-keyring)
have dbus-run-session || need+=(dbus)
have secret-tool || need+=(libsecret-tools)
[ -x /usr/bin/aws ] || need+=(awscli)
have tmux || need+=(tmux)
have hyperfine || need+=(hyperfine)
have pgrep || need+=(procps)
[ -x /usr/bin/time ] || need+=(time)
have setsid || need+=(util-linux)
have fish || need+=(fish)

if [ ${#need[@]} -gt 0 ]; then
  echo "deps: installing Debian packages: ${need[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

missing=()
have moto_server || missing+=("moto_server (python: moto[server])")
python3 -m awscli --version >/dev/null 2>&1 || missing+=("AWS CLI v1 (python: awscli)")
python3 -c 'import boto3' >/dev/null 2>&1 || missing+=("boto3")
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: these come with the machine's Python and are missing: ${missing[*]}" >&2
  echo "deps: install them with pip into python3's environment" >&2
  exit 1
fi

# The AWS SDK for JavaScript v3 for the compatibility tests, in a git-ignored
# folder of its own (matrix_e2e_test.go points node at it).
js=.testdeps/js/node_modules/@aws-sdk
if [ ! -f "$js/client-sts/package.json" ] || [ ! -f "$js/credential-providers/package.json" ]; then
  if have npm; then
    echo "deps: installing @aws-sdk/client-sts and @aws-sdk/credential-providers into .testdeps/js"
    mkdir -p .testdeps/js
    npm install --prefix .testdeps/js --no-audit --no-fund --loglevel=error \
      @aws-sdk/client-sts @aws-sdk/credential-providers >/dev/null
  else
    echo "deps: npm is missing; install Node.js 20+ with npm for the AWS SDK for JavaScript tests" >&2
  fi
fi

go mod download
