#!/usr/bin/env bash
# Build an image from the repository root and push it to Artifact Registry, unless that tag exists;
# then print the image by digest, for Terraform and for promotion to the next environment:
#   .ci/push_image.sh DOCKERFILE REGION-docker.pkg.dev/PROJECT/REPOSITORY/NAME:TAG
#     digest=sha256:...
#     image=REGION-docker.pkg.dev/PROJECT/REPOSITORY/NAME@sha256:...
# Tags are immutable in the repository (Terraform sets immutable_tags): a re-run of a deployment,
# or a rollback to an older commit, reuses the image built for that commit.
set -euo pipefail
dockerfile=$1
image=$2
# Cloud Run and Dataflow's launcher and workers run x86-64: an image built on an ARM machine
# (Apple silicon) without this is arm64, and fails there with exec format errors.
platform=linux/amd64
gcloud auth configure-docker "${image%%/*}" --quiet
if gcloud artifacts docker images describe "$image" > /dev/null 2>&1; then
  echo "$image already exists: not rebuilt"
else
  docker build --pull --platform "$platform" --file "$dockerfile" --tag "$image" \
    --label "org.opencontainers.image.revision=${GITHUB_SHA:-unknown}" \
    --label "org.opencontainers.image.source=${GITHUB_SERVER_URL:-}/${GITHUB_REPOSITORY:-}" .
  docker push "$image"
fi
digest=$(gcloud artifacts docker images describe "$image" --format='value(image_summary.digest)')
if [[ ! $digest =~ ^sha256:[0-9a-f]{64}$ ]]; then
  echo "error: Artifact Registry gave no digest for $image (got '$digest')" >&2
  exit 1
fi
echo "digest=${digest}"
echo "image=${image%:*}@${digest}"
