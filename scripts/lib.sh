# Shared by scripts/install, scripts/demo and scripts/test. Source it; do not run it.
# shellcheck shell=bash

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/.venv"
PY="$VENV/bin/python"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Debian packages every profile needs: Python with venv, the build of libvirt-python,
# gettext for the translations, Redis, libvirtd with QEMU (software emulation).
BASE_PACKAGES=(
  python3 python3-venv python3-dev gcc pkg-config libvirt-dev gettext
  redis-server
  libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86
  iproute2 procps util-linux curl ca-certificates
)
# What the test suite adds: a real Ganeti node, PostgreSQL, headless Chromium.
TEST_PACKAGES=(
  ganeti ganeti-os-noop openssh-server openssh-client
  postgresql
  chromium fonts-dejavu-core
)

missing_packages() {
  local pkg
  for pkg in "$@"; do
    if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]; then
      printf '%s ' "$pkg"
    fi
  done
}

install_debian_packages() {
  local wanted=("$@")
  command -v npm >/dev/null 2>&1 || wanted+=(nodejs npm)
  local missing
  missing="$(missing_packages "${wanted[@]}")"
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" != 0 ]; then
    die "these Debian packages are missing. Run:
    sudo apt-get update && sudo apt-get install -y --no-install-recommends $missing
then run this command again (as root: it also starts libvirtd and network namespaces)."
  fi
  say "Installing Debian packages: $missing"
  # Package scripts must not start daemons here: the project starts what it needs itself.
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

stamp_of() { sha256sum "$@" | sha256sum | cut -c1-16; }

install_virtualenv() {
  local stamp
  stamp="$VENV/.ganetiweb-$(stamp_of "$REPO/pyproject.toml")"
  [ -e "$stamp" ] && return 0
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "Python 3.11 or newer is needed; python3 is $(python3 --version 2>&1)."
  say "Installing the Python packages into $VENV"
  [ -x "$PY" ] || python3 -m venv "$VENV"
  "$PY" -m pip install -q --upgrade pip
  "$PY" -m pip install -q -e "$REPO[test]"
  rm -f "$VENV"/.ganetiweb-*
  touch "$stamp"
}

install_npm_packages() {
  local stamp
  stamp="$REPO/node_modules/.ganetiweb-$(stamp_of "$REPO/package-lock.json")"
  [ -e "$stamp" ] && return 0
  say "Installing the front-end packages (npm ci)"
  (cd "$REPO" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$stamp"
}

build_site_files() {
  say "Compiling translations and collecting static files"
  (cd "$REPO" && "$PY" manage.py compilemessages -v0 --ignore=.venv --ignore=node_modules)
  (cd "$REPO" && "$PY" manage.py collectstatic --noinput -v0)
}

# Root is needed to install packages and to start libvirtd, QEMU VMs and network namespaces.
# A non-root user is first told which packages to install, then how to run as root.
require_root() {
  local profile="$1" why="$2"
  [ "$(id -u)" = 0 ] && return 0
  local wanted=("${BASE_PACKAGES[@]}")
  [ "$profile" = test ] && wanted+=("${TEST_PACKAGES[@]}")
  local missing
  missing="$(missing_packages "${wanted[@]}")"
  if [ -n "$missing" ]; then
    printf 'These Debian packages are missing. Install them with:\n    sudo apt-get update && sudo apt-get install -y --no-install-recommends %s\n' \
      "$missing" >&2
  fi
  die "run this as root (sudo $0): $why"
}

install_everything() {
  local profile="$1"
  if [ "$profile" = test ]; then
    install_debian_packages "${BASE_PACKAGES[@]}" "${TEST_PACKAGES[@]}"
  else
    install_debian_packages "${BASE_PACKAGES[@]}"
  fi
  install_virtualenv
  install_npm_packages
  build_site_files
}
