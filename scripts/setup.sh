#!/usr/bin/env bash
# Set up wocheck on a fresh Debian 12 machine: system packages (as root, through apt), a virtual
# environment in .venv and the package with its extras. Idempotent: a second run only checks.
#   scripts/setup.sh            runtime + fixtures + test tools (what the README's commands use)
set -euo pipefail
cd "$(dirname "$0")/.."

# chromium: the browser test of the reviewers' report (tests/test_browser_report.py)
# postgresql: a throwaway server for the PostgreSQL history tests (tests/_pg.py); the service itself is not used
APT_PACKAGES=(libzbar0 tesseract-ocr tesseract-ocr-chi-sim fonts-arphic-ukai fonts-wqy-microhei fonts-dejavu-core chromium
              postgresql)
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; elif command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "setup: need root (or sudo) to install: ${missing[*]}" >&2; exit 2; fi
  echo "setup: installing system packages: ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
"$PYTHON" -c 'import venv' 2>/dev/null || { echo "setup: $PYTHON has no venv module" >&2; exit 2; }

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[dev]'
tesseract --list-langs 2>/dev/null | grep -qx chi_sim || { echo "setup: tesseract chi_sim missing" >&2; exit 2; }
echo "setup: ok ($(.venv/bin/wocheck --version))" >&2
