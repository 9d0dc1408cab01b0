# lbhealth container image: one process, non-root, nothing written at run time.
#   docker build -t lbhealth .
#   docker run --read-only -p 8080:8080 \
#       -v "$PWD/inventory.yaml:/etc/lbhealth/inventory.yaml:ro" lbhealth
# Settings come from the inventory's settings block or LBHEALTH_* variables
# (the environment wins). tests/test_docker.py lints this file with hadolint and
# runs its build and start commands on the host.

FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/lbhealth
WORKDIR /src
COPY pyproject.toml README.md requirements.lock ./
COPY docker/install.sh docker/
COPY lbhealth lbhealth/
RUN sh docker/install.sh "$VIRTUAL_ENV"

FROM python:3.11-slim-bookworm
# The image runs with a read-only root: bytecode was compiled at build time and
# nothing is cached at run time. LBHEALTH_PORT is fixed here (the environment
# beats the file) so the HEALTHCHECK knows the port without reading the config.
ENV VIRTUAL_ENV=/opt/lbhealth
ENV PATH="$VIRTUAL_ENV/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LBHEALTH_CONFIG=/etc/lbhealth/inventory.yaml \
    LBHEALTH_HOST=0.0.0.0 \
    LBHEALTH_PORT=8080
COPY --from=build /opt/lbhealth /opt/lbhealth
# A numeric user: Kubernetes' runAsNonRoot can only verify a numeric one.
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-m", "lbhealth.cli.healthcheck"]
CMD ["lbhealth", "serve"]
