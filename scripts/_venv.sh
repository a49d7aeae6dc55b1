# Shared by scripts/serve and scripts/test: make .venv with Python >= 3.11 and install the
# project (with the given extras) when pyproject.toml changed since the last install.
set -euo pipefail
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Python 3.11 or newer is needed (found: $("$PYTHON" --version 2>&1)). Set PYTHON=/path/to/python3.11." >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "Creating the virtual environment in .venv"
  "$PYTHON" -m venv .venv
fi
if [ ! -f .env ] && [ -z "${NO_DEV_DOTENV:-}" ]; then  # scripts/prod sets NO_DEV_DOTENV
  printf '# Development settings for this checkout (git-ignored). A deployment sets its own environment.\nDEBUG=true\n' > .env
fi
extras=${1:-}
stamp=".venv/.installed-$(cat pyproject.toml | sha1sum | cut -c1-12)${extras:+-$extras}"
if [ ! -f "$stamp" ]; then
  echo "Installing dependencies${extras:+ (with $extras)}"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".${extras:+[$extras]}"
  rm -f .venv/.installed-*
  touch "$stamp"
fi
