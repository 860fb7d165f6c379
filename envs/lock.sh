#!/usr/bin/env bash
# Regenerate envs/<name>.txt (every package pinned, with the sha256 of every file) from
# envs/<name>.in, and envs/<name>.overrides where a set has one:
#   envs/lock.sh cpu data train vllm host
# Every set is resolved by uv for CPython 3.11 on manylinux_2_28 x86-64 (the interpreter
# and platform of .venv, the login node and every image), whatever machine locks it.
# Installs read the lock with --no-deps --require-hashes: nothing outside it gets in.
set -euo pipefail
cd "$(dirname "$0")"
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
python3 -m venv "$tools" && "$tools/bin/pip" install --quiet uv==0.13.9
for env in ${@:-cpu data train vllm host}; do
  overrides=()
  [ -f "$env.overrides" ] && overrides=(--override "$env.overrides")
  "$tools/bin/uv" pip compile --quiet --python-version 3.11 \
    --python-platform x86_64-manylinux_2_28 --generate-hashes "${overrides[@]}" \
    --custom-compile-command "envs/lock.sh $env" "$env.in" -o "$env.txt"
  echo "locked $env: $(grep -c '==' "$env.txt") packages"
done
