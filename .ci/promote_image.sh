#!/usr/bin/env bash
# Copy an image by digest into this environment's registry, byte for byte, and check it arrived
# with the same digest:
#   .ci/promote_image.sh SOURCE_REGISTRY/NAME@sha256:... REGISTRY/NAME:TAG
#     digest=sha256:...
#     image=REGISTRY/NAME@sha256:...
# skopeo (on GitHub's ubuntu-24.04 runners) copies the manifest and layers as they are: --all
# keeps an image index whole, --preserve-digests makes skopeo fail rather than push anything
# whose digest differs (no recompression, no format conversion). Both registries are Artifact
# Registry, logged in with the caller's gcloud access token. A tag that already names the same
# digest (a re-run) is left alone; one naming other bytes is refused (tags are immutable).
set -euo pipefail
source=$1
target=$2
if [[ ! $source =~ @(sha256:[0-9a-f]{64})$ ]]; then
  echo "error: $source is not an image by digest (NAME@sha256:...)" >&2
  exit 1
fi
digest=${BASH_REMATCH[1]}
digest_of() {
  gcloud artifacts docker images describe "$1" --format='value(image_summary.digest)' 2> /dev/null
}
if existing=$(digest_of "$target"); then
  if [ "$existing" != "$digest" ]; then
    echo "error: $target already names $existing, not $digest: tags are immutable" >&2
    exit 1
  fi
  echo "$target already holds $digest: not copied"
else
  for host in $(printf '%s\n' "${source%%/*}" "${target%%/*}" | sort -u); do
    gcloud auth print-access-token | skopeo login --username oauth2accesstoken --password-stdin "$host"
  done
  skopeo copy --all --preserve-digests "docker://${source}" "docker://${target}"
  existing=$(digest_of "$target") || existing=""
  if [ "$existing" != "$digest" ]; then
    echo "error: $target has digest '$existing' after the copy, not $digest" >&2
    exit 1
  fi
fi
echo "digest=${digest}"
echo "image=${target%:*}@${digest}"
