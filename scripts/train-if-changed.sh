#!/usr/bin/env bash
# Train the Rasa model when bot/ (config, domain, data, dictionary) or the custom NLU component
# changed since the last training.
# --force: Rasa's cache would otherwise restore the OLD jieba dictionary (see RASA_NOTES).
set -euo pipefail
cd "$(dirname "$0")/../bot"
inputs=(config.yml domain.yml data dictionary ../rasa_plugins/linear_intent.py ../rasa_plugins/sentence_embeddings.py)
[ -d domain ] && inputs+=(domain)
hash=$(find "${inputs[@]}" -type f | sort | xargs cat | sha256sum | cut -d' ' -f1)
if [ -f models/policybot.tar.gz ] && [ -f models/.trained-hash ] && [ "$(cat models/.trained-hash)" = "$hash" ]; then
  echo "model is up to date (bot/ unchanged)"; exit 0
fi
echo "training the Rasa model (bot/ changed)…"
start=$(date +%s)
PYTHONPATH="$(cd .. && pwd)" ../.venv-rasa/bin/rasa train --force --fixed-model-name policybot --out models --quiet
echo "$hash" > models/.trained-hash
echo "trained in $(( $(date +%s) - start )) s"
