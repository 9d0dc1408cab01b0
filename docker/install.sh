#!/bin/sh
# Builds lbhealth's virtualenv exactly as locked. The Dockerfile's build stage
# runs this, and tests/test_docker.py runs the very same script on the host, so
# the image's recipe is exercised even where no container engine exists.
#   sh docker/install.sh VENV_DIR     (run from the directory holding pyproject.toml)
set -eu
venv="$1"
python3 -m venv "$venv"
# Only the locked versions are installed, and the package itself with --no-deps:
# a dependency missing from the lock then fails `pip check` instead of floating in
# at whatever version the index offers on build day.
"$venv/bin/python" -m pip install --no-deps --requirement requirements.lock
"$venv/bin/python" -m pip install --no-deps .
"$venv/bin/python" -m pip check
