#!/usr/bin/env bash
# Written by `grade gradescope`.  Gradescope runs this once, as root, when it builds the
# autograder's image: it installs bubblewrap (the sandbox) and a Python, then the grader
# wheel in a virtual environment with the dependency versions of requirements.txt.
# Settings (for tests; Gradescope needs none): GRADER_AUTOGRADER_ROOT (default /autograder),
# GRADER_VENV, GRADER_PYTHON, GRADER_VENV_ARGS, GRADER_SETUP_APT=0, GRADER_SETUP_DEPS=0.
set -euo pipefail
ROOT="${GRADER_AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
VENV="${GRADER_VENV:-$ROOT/venv}"
WANT="@PYTHON_VERSION@"     # the Python the zip was built and checked with

if [ "${GRADER_SETUP_APT:-1}" != 0 ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends bubblewrap python3 python3-venv python3-pip
    if ! command -v "python$WANT" >/dev/null 2>&1; then
        apt-get install -y -qq --no-install-recommends "python$WANT" "python$WANT-venv" \
            || echo "note: no python$WANT package here: using $(python3 -V 2>&1)"
    fi
fi

PYTHON="${GRADER_PYTHON:-}"
if [ -z "$PYTHON" ]; then
    if command -v "python$WANT" >/dev/null 2>&1; then PYTHON="python$WANT"; else PYTHON=python3; fi
fi
# shellcheck disable=SC2086  # GRADER_VENV_ARGS holds several options
"$PYTHON" -m venv ${GRADER_VENV_ARGS:-} "$VENV"
if [ "${GRADER_SETUP_DEPS:-1}" != 0 ]; then
    "$VENV/bin/python" -m pip install -q --no-cache-dir -r "$SOURCE/requirements.txt"
fi
"$VENV/bin/python" -m pip install -q --no-cache-dir --no-deps --no-index --force-reinstall "$SOURCE"/wheels/*.whl

# The secret side: only root may read it (each runner switches to an unprivileged user).
chmod -R go-rwx "$SOURCE/solutions"
# What a submission can and cannot do in this image, measured by a probe (the build log).
"$VENV/bin/python" -I -m grader.cli doctor --course "$SOURCE" || true
echo "grader installed in $VENV ($("$VENV/bin/python" -V 2>&1))"
