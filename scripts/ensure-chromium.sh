#!/usr/bin/env bash
# Debian's Chromium (and a CJK font) for the widget's browser tests. Idempotent.
# Playwright drives /usr/bin/chromium through executable_path: we never run `playwright install`,
# which would download its own browsers. Without a CJK font every Chinese character in a
# screenshot renders as a box, so the font is part of "the browser is ready".
set -euo pipefail
has_cjk_font() { command -v fc-list >/dev/null && [ -n "$(fc-list :lang=zh 2>/dev/null)" ]; }
if [ -x /usr/bin/chromium ] && has_cjk_font; then
  echo "chromium and a CJK font are present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "chromium or a CJK font is missing: run as root (or: sudo $0)" >&2
  exit 1
fi
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-wqy-microhei
echo "installed: $(/usr/bin/chromium --version 2>/dev/null)"
