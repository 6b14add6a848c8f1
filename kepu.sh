#!/usr/bin/env bash
# One entry point for the two README commands:
#   ./kepu.sh demo   set up .venv and start the platform (embedded SQLite, Changzhou plan, demo data)
#   ./kepu.sh test   set up .venv and the system packages the tests need, then run the whole suite
set -euo pipefail
cd "$(dirname "$0")"

need_python() {
  PY=${KEPU_PYTHON:-python3.11}
  command -v "$PY" >/dev/null 2>&1 || PY=python3
  if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
  fi
  if [ ! -f .venv/.installed ] || [ pyproject.toml -nt .venv/.installed ]; then
    .venv/bin/pip install --quiet --disable-pip-version-check -e ".[dev]"
    touch .venv/.installed
  fi
}

apt_install() {
  # Install Debian packages that are missing (as root, or through sudo when available).
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

compile_locale() {
  if command -v msgfmt >/dev/null 2>&1; then
    (cd src/kepu && ../../.venv/bin/kepu compilemessages --verbosity 0)
  fi
}

case "${1:-}" in
  demo)
    shift
    need_python
    compile_locale
    exec .venv/bin/kepu demo --serve "$@"
    ;;
  test)
    shift
    apt_install chromium fonts-wqy-microhei gettext
    need_python
    compile_locale
    # Two workers (our machines have 2 cores); --dist loadfile keeps a file's tests on one worker so
    # its module-scoped fixtures are built once. KEPU_TEST_WORKERS=0 runs everything in one process.
    exec .venv/bin/python -m pytest -n "${KEPU_TEST_WORKERS:-2}" --dist loadfile "$@"
    ;;
  *)
    echo "usage: ./kepu.sh demo | ./kepu.sh test [pytest args]" >&2
    exit 2
    ;;
esac
