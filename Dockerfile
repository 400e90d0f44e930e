# The read API's container image (Cloud Run; docker compose). Build from the repository root:
#   docker build -t bqingest-api .
# The builder installs requirements/api.txt into a virtualenv: the core dependencies and the
# `api` extra only, at the versions of constraints.txt, each distribution checked against its
# sha256 (--require-hashes; `make lock` writes the file), so the image holds no Apache Beam and
# no emulator, and nothing unchecked. The
# runtime stage copies that virtualenv onto a clean slim image with no pip and no build tools,
# and runs it as an unprivileged user.

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d

FROM ${PYTHON_IMAGE} AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /build

# Dependencies first, from the hashed lock files alone: a code change reuses this layer. The
# build backend (requirements/build.txt, the setuptools pyproject.toml pins) goes to the
# builder's own interpreter, not the virtualenv.
COPY requirements/api.txt requirements/build.txt ./
RUN python -m venv --without-pip /opt/venv \
    && python -m pip --python /opt/venv/bin/python install --no-cache-dir --require-hashes \
        --no-deps --requirement api.txt \
    && python -m pip install --no-cache-dir --require-hashes --no-deps --requirement build.txt

# Then the package itself: built with that backend (no build isolation, so nothing is fetched
# unchecked), installed without its dependencies (all in place, at their pinned versions).
COPY pyproject.toml README.md ./
COPY src ./src
RUN python -m pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /tmp/dist . \
    && python -m pip --python /opt/venv/bin/python install --no-cache-dir --no-deps /tmp/dist/*.whl \
    && python -m pip --python /opt/venv/bin/python check


FROM ${PYTHON_IMAGE} AS runtime

# No installer in the final image: the virtualenv is complete.
RUN python -m pip uninstall --yes --quiet pip setuptools wheel \
    && useradd --system --user-group --uid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin bqingest

COPY --from=builder /opt/venv /opt/venv

# BQINGEST_* are the API's settings (see docs/configuration.md); UVICORN_* are uvicorn's own
# options, read from the environment: change workers, proxy trust or timeouts without a rebuild.
# Cloud Run terminates TLS in Google's front end and forwards X-Forwarded-For/-Proto: trust them.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    BQINGEST_API_HOST=0.0.0.0 \
    BQINGEST_API_PORT=8000 \
    UVICORN_WORKERS=1 \
    UVICORN_PROXY_HEADERS=true \
    UVICORN_FORWARDED_ALLOW_IPS=* \
    UVICORN_TIMEOUT_KEEP_ALIVE=5 \
    UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN=10 \
    UVICORN_LOG_LEVEL=info

WORKDIR /app
USER 10001:10001
EXPOSE 8000

# /healthz calls no dependency: this says the process serves, with the standard library only.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + (os.environ.get('PORT') or os.environ.get('BQINGEST_API_PORT', '8000')) + '/healthz', timeout=4)"]

# exec: uvicorn is PID 1 and receives SIGTERM from docker stop and Cloud Run. The port is $PORT
# when set (Cloud Run's container contract: it sets PORT to the container port and sends
# requests there), else BQINGEST_API_PORT (docker compose, docker run).
CMD ["sh", "-c", "exec uvicorn --factory bqingest.api.main:create_app --host \"$BQINGEST_API_HOST\" --port \"${PORT:-$BQINGEST_API_PORT}\""]
