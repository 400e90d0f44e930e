#!/usr/bin/env bash
# Which image by digest an environment after the first deploys, and where it comes from. Images
# are built once, in the first environment of the promotion chain (dev), and promoted unchanged:
#   .ci/resolve_image.sh REGISTRY/NAME:TAG SOURCE_REGISTRY/NAME:TAG
#     image=REGISTRY/NAME@sha256:...                 what Terraform and the template spec name
#     source=SOURCE_REGISTRY/NAME@sha256:...         what to copy first (empty: already here)
# TAG is the commit's source tree. The environment's own registry is asked first (a re-run or a
# rollback finds the image promoted earlier, even once the source registry's cleanup deleted it);
# then the previous environment's, whose image is the one tested there. Nothing is ever built.
set -euo pipefail
target=$1
from=$2
digest_of() {
  gcloud artifacts docker images describe "$1" --format='value(image_summary.digest)' 2> /dev/null
}
valid() { [[ $1 =~ ^sha256:[0-9a-f]{64}$ ]]; }
if digest=$(digest_of "$target") && valid "$digest"; then
  # Promoted before: the same bytes as the source, while the source still has them.
  if source_digest=$(digest_of "$from") && [ "$source_digest" != "$digest" ]; then
    echo "error: $target is $digest but $from is $source_digest: this registry's tag does not hold the tested image (docs/runbook.md)" >&2
    exit 1
  fi
  echo "image=${target%:*}@${digest}"
  echo "source="
elif digest=$(digest_of "$from") && valid "$digest"; then
  echo "image=${target%:*}@${digest}"
  echo "source=${from%:*}@${digest}"
else
  echo "error: neither $target nor $from exists: images are built in the first environment only; deploy this source tree there first (docs/ci-cd.md)" >&2
  exit 1
fi
