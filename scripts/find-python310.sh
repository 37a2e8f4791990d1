#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter: $PYTHON310, python3.10 on PATH, or pyenv's 3.10.x.
set -euo pipefail
for candidate in "${PYTHON310:-}" "$(command -v python3.10 || true)" \
    "$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")"/versions/3.10*/bin/python3.10; do
  if [ -n "$candidate" ] && [ -x "$candidate" ] && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 10)' 2>/dev/null; then
    echo "$candidate"; exit 0
  fi
done
echo "error: Python 3.10 is required (Rasa 3.6 supports 3.8-3.10). Install it (e.g. 'pyenv install 3.10') or set PYTHON310=/path/to/python3.10." >&2
exit 1
