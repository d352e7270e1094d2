#!/usr/bin/env bash
# The Debian packages the test suite starts by itself:
#   postgresql          the PostgreSQL tests start a throwaway server (tests/app/conftest.py, pg_url)
#   chromium            the browser tests drive /usr/bin/chromium (tests/e2e/test_browser.py)
#   fonts-wqy-microhei  a CJK font, so the Chinese pages render in the browser tests' screenshots
#   python3-venv        only where $PYTHON cannot make a virtual environment (Debian's python3 without it)
# Run by `make test`. As root it installs whatever is missing (one `apt-get update`, then one install);
# as anyone else it names what is missing and exits 1. SYSTEM_DEPS_ROOT (default: /) is where the files
# are looked for; set it to an empty folder to see what a bare machine would be told.
set -euo pipefail

root="${SYSTEM_DEPS_ROOT:-}"
root="${root%/}"
need=()
compgen -G "$root/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
[ -x "$root/usr/bin/chromium" ] || need+=(chromium)
[ -f "$root/usr/share/fonts/truetype/wqy/wqy-microhei.ttc" ] || need+=(fonts-wqy-microhei)
"${PYTHON:-python3}" -c "import ensurepip" 2>/dev/null || need+=(python3-venv)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "make test needs the Debian package(s): ${need[*]}" >&2
  echo "install them as root, then run make test again:  sudo apt-get install ${need[*]}" >&2
  echo "(or run make test as root, which installs them)" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "make test needs ${need[*]} (Debian package names), and this machine has no apt-get: install them by hand" >&2
  exit 1
fi
echo "installing the Debian package(s) the tests need: ${need[*]}" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" </dev/null
