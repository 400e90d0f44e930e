# The local system's image for docker compose: bqingest with every extra (the pipeline on Beam's
# direct runner, the source, bootstrap, and the BigQuery emulator). Build from the repository root:
#   docker build -f docker/local.Dockerfile -t bqingest-local .
# For the cloud, the API and the pipeline have their own slimmer images (Dockerfile,
# dataflow/Dockerfile); this one exists so that `docker compose up` runs the whole system.

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d
FROM ${PYTHON_IMAGE}

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

RUN useradd --create-home --uid 10001 --user-group bqingest \
    && mkdir /data && chown bqingest:bqingest /data

WORKDIR /app

# Exact versions from constraints.txt; the package and its extras in one step (the `local` extra
# pulls in the API, the pipeline and the BigQuery emulator).
COPY pyproject.toml constraints.txt README.md ./
COPY src ./src
RUN pip install --no-cache-dir --constraint constraints.txt ".[local]"

USER 10001:10001
# The BigQuery emulator loads DuckDB's spatial extension at start and would download it; install
# it now from the wheel, into the runtime user's DuckDB home.
RUN python -c "from bqingest.local.bigquery_emulator import ensure_spatial_extension as e; e()"

ENV BQINGEST_DATA_DIR=/data
VOLUME ["/data"]
CMD ["bqingest", "--help"]
