#!/usr/bin/env bash
# Runs "$@" inside a private D-Bus session bus with gnome-keyring's Secret
# Service, its login collection unlocked, and its keyring files in a
# throw-away directory (never the user's own keyrings).
set -euo pipefail
kr=$(mktemp -d)
trap 'rm -rf "$kr"' EXIT
# dbus-daemon warns that it cannot raise its fd limit in a container; noise.
dbus-run-session -- bash -c '
  set -e
  # A non-empty password: with an empty one gnome-keyring asks a prompter
  # (there is none) to create the login collection.
  printf %s c9cred-test | XDG_DATA_HOME="$1" gnome-keyring-daemon --unlock --components=secrets >/dev/null
  shift
  "$@"
' _ "$kr" "$@" 2> >(grep -v "Failed to set fd limit" >&2)
