#!/usr/bin/env bash
# Installs everything `make test` and `make demo` need on a fresh Debian/Ubuntu machine:
# system packages (apt), the Python virtualenv (.venv) and the test servers' npm packages.
# Idempotent and quick when everything is already there. Needs root or sudo for apt.
set -euo pipefail
cd "$(dirname "$0")/.."

# -- system packages ------------------------------------------------------------------
APT_PACKAGES=(apache2 redis-server krb5-kdc krb5-admin-server krb5-user libkrb5-dev
  libapache2-mod-auth-gssapi gss-ntlmssp nginx chromium tmux)
# Usually on the machine already (from Debian or elsewhere); Debian's packages otherwise:
# node and npm for the OpenID provider, a C compiler and Python's headers for gssapi and
# krb5 (built from source), and venv for Debian's own python3.
PYTHON=${PYTHON:-python3}
command -v npm >/dev/null || APT_PACKAGES+=(nodejs npm)
command -v cc >/dev/null || APT_PACKAGES+=(gcc)
"$PYTHON" -c 'import os, sysconfig
assert os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h"))' 2>/dev/null ||
  APT_PACKAGES+=(python3-dev)
"$PYTHON" -c 'import ensurepip' 2>/dev/null || APT_PACKAGES+=(python3-venv)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "bootstrap: apt-get install ${missing[*]}"
  $SUDO apt-get update -qq
  # policy-rc.d keeps apt from starting the services it installs (tests start their own).
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
    $SUDO chmod +x /usr/sbin/policy-rc.d
    trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# -- Python ---------------------------------------------------------------------------
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
stamp=.venv/.authwire-deps
want=$(cat pyproject.toml requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "bootstrap: pip install -e .[all] -r requirements-dev.txt"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[all]" -r requirements-dev.txt
  echo "$want" > "$stamp"
fi

# -- npm: the OpenID provider the OAuth tests run against (pinned by its lockfile) -----------
oidc_dir=tests/integration/servers/oidc
if [ ! -d "$oidc_dir/node_modules/oidc-provider" ] || [ "$oidc_dir/package-lock.json" -nt "$oidc_dir/node_modules/.package-lock.json" ]; then
  echo "bootstrap: npm ci in $oidc_dir"
  (cd "$oidc_dir" && npm ci --no-audit --no-fund --silent)
fi
