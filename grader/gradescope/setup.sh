#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder's image (grader gradescope wrote it).
# It installs grader and its pinned dependencies into a virtual environment at
# $AUTOGRADER_ROOT/grader-venv: grader and any wheels given to `grader gradescope --wheels`
# from source/wheels/, the rest from PyPI at the versions in source/constraints.txt, torch's
# CPU build from PyTorch's CPU index (PyPI's torch is the multi-GB CUDA build).
#   setup.sh --dry-run   prints the commands instead of running them.
set -euo pipefail

ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="${GRADER_SOURCE:-$ROOT/source}"
VENV="$ROOT/grader-venv"
TORCH_INDEX="${GRADER_TORCH_INDEX:-https://download.pytorch.org/whl/cpu}"
DRY_RUN=0
if [ "${1:-}" = "--dry-run" ]; then DRY_RUN=1; fi

run() {
    if [ "$DRY_RUN" = 1 ]; then printf '+ %s\n' "$*"; else "$@"; fi
}

# A Python grader runs on (3.11 or newer): the image's, else Ubuntu's python3.11 package.
PYTHON=""
for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
        "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        PYTHON="$(command -v "$candidate")"
        break
    fi
done
if [ -z "$PYTHON" ]; then
    run apt-get update
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y python3.11 python3.11-venv
    PYTHON=python3.11
fi

GRADER_WHEEL="$(cd "$SOURCE/wheels" && ls grader-*.whl | head -n 1)"
run "$PYTHON" -m venv "$VENV"
run "$VENV/bin/python" -m pip install --upgrade pip
run "$VENV/bin/python" -m pip install --find-links "$SOURCE/wheels" --constraint "$SOURCE/constraints.txt" \
    --extra-index-url "$TORCH_INDEX" "$SOURCE/wheels/$GRADER_WHEEL[ml]"
# Extra wheels (grader gradescope --wheels DIR) are installed too: a course's own packages.
for wheel in "$SOURCE"/wheels/*.whl; do
    case "$(basename "$wheel")" in grader-*) continue ;; esac
    run "$VENV/bin/python" -m pip install --find-links "$SOURCE/wheels" --constraint "$SOURCE/constraints.txt" \
        --extra-index-url "$TORCH_INDEX" "$wheel"
done
run "$VENV/bin/grader" --version
