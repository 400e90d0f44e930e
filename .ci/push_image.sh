#!/usr/bin/env bash
# Build an image from the repository root and push it to Artifact Registry, unless that tag exists.
#   .ci/push_image.sh DOCKERFILE REGION-docker.pkg.dev/PROJECT/REPOSITORY/NAME:TAG
# Tags are immutable in the repository (Terraform sets immutable_tags): a re-run of a deployment,
# or a rollback to an older commit, reuses the image built for that commit.
set -euo pipefail
dockerfile=$1
image=$2
gcloud auth configure-docker "${image%%/*}" --quiet
if gcloud artifacts docker images describe "$image" > /dev/null 2>&1; then
  echo "$image already exists: not rebuilt"
  exit 0
fi
docker build --pull --file "$dockerfile" --tag "$image" \
  --label "org.opencontainers.image.revision=${GITHUB_SHA:-unknown}" \
  --label "org.opencontainers.image.source=${GITHUB_SERVER_URL:-}/${GITHUB_REPOSITORY:-}" .
docker push "$image"
