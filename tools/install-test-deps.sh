#!/usr/bin/env bash
# What the full test suite needs beyond Python 3.11: uv (from PyPI); Debian's Chromium and
# ChromeDriver (the lineage test drives a real headless browser); Java 17 and the SQLite JDBC
# driver (the Spark environment's tests run a real Spark session and a standalone cluster);
# PostgreSQL (the team server's tests start their own, as the postgres user).
# Installs only what is missing.
set -euo pipefail
if ! command -v uv >/dev/null 2>&1 && ! python3 -m uv --version >/dev/null 2>&1; then
    python3 -m pip install --quiet --disable-pip-version-check uv
fi
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v java >/dev/null 2>&1 || missing+=(openjdk-17-jre-headless)
[ -f /usr/share/java/sqlite-jdbc.jar ] || missing+=(libxerial-sqlite-jdbc-java)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "Installing Debian packages for the tests: ${missing[*]}"
    $sudo apt-get update -qq
    # Slim Debian images lack this folder, and the JRE's post-install step fails without it.
    $sudo mkdir -p /usr/share/man/man1
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
