#!/usr/bin/env bash
# Debian's Chromium (with CJK and emoji fonts) for the widget's browser tests. Idempotent.
# Playwright drives /usr/bin/chromium through executable_path: we never run `playwright install`,
# which would download its own browsers. Without a CJK font every Chinese character in a
# screenshot renders as a box (and the bot greets with an emoji), so fonts are part of "ready".
set -euo pipefail
has_fonts() {
  command -v fc-list >/dev/null || return 1
  [ -n "$(fc-list :lang=zh family)" ] && fc-list : family | grep -i emoji >/dev/null
}
if [ -x /usr/bin/chromium ] && has_fonts; then
  echo "chromium and its fonts are present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "chromium or its fonts are missing: run as root (or: sudo $0)" >&2
  exit 1
fi
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-wqy-microhei fonts-noto-color-emoji
echo "installed: $(/usr/bin/chromium --version 2>/dev/null)"
