#!/usr/bin/env bash
# Validate docker-compose.yml (with .env.example as its environment) without a Docker engine.
#
# Neither Docker nor the compose v2 plugin can be installed here; the Python docker-compose
# 1.29.2 from PyPI validates the same Compose Specification schema (services, healthchecks,
# depends_on conditions, volumes, env_file) and interpolates the variables. It predates the
# top-level `name:` key, so that one line is left out of what it checks.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=var/compose-venv
if [ ! -x "$venv/bin/docker-compose" ]; then
  "$(scripts/find-python310.sh)" -m venv "$venv"
  quiet() { "$@" 2>&1 | { grep -v "is ignored\|requires PyYAML\|requires websocket-client\|DEPRECATION\|dependency resolver\|dependency conflicts" || true; }; }
  # 1.29.2 pins PyYAML<6, which no longer builds on Python 3.10: install it without its pins.
  quiet "$venv/bin/pip" install --quiet --no-deps docker-compose==1.29.2
  quiet "$venv/bin/pip" install --quiet "PyYAML==6.0.1" "docker==6.1.3" "jsonschema==3.2.0" \
    "python-dotenv==0.21.1" "texttable==1.7.0" "docopt==0.6.2" "dockerpty==0.4.1" \
    "websocket-client==0.59.0" "distro==1.9.0" "requests==2.31.0" "urllib3<2"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
grep -v '^name:' docker-compose.yml > "$work/docker-compose.yml"
cp -r docker "$work/docker"
cp .env.example "$work/.env"
"$venv/bin/docker-compose" --project-directory "$work" -f "$work/docker-compose.yml" \
  --env-file "$work/.env" config --quiet
services=$("$venv/bin/docker-compose" --project-directory "$work" -f "$work/docker-compose.yml" \
  --env-file "$work/.env" config --services | tr '\n' ' ')
echo "docker-compose.yml is valid (Compose Specification, docker-compose 1.29.2): $services"
