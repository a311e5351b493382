#!/usr/bin/env bash
# Build the image for linux/amd64 and push it to ECR, with an SBOM and max-mode provenance attached where the builder can.
#
# Usage: scripts/push_image.sh REPOSITORY_URI:TAG (called by scripts/deploy.sh).
# In CI (CI=true, set by GitHub Actions and GitLab CI) a builder that cannot attach
# them is an error; on a laptop it is a warning and the image is pushed without them.
set -euo pipefail

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
IMAGE_URI="${1:-}"
[[ "$IMAGE_URI" == */*:* ]] ||
  die "usage: scripts/push_image.sh REPOSITORY_URI:TAG" "Deploy with make deploy, which names the image."
REGISTRY="${IMAGE_URI%%/*}"

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# The driver of the current buildx builder (docker, docker-container, ...), empty without buildx.
builder_driver() {
  docker buildx inspect 2>/dev/null | awk '$1 == "Driver:" { print $2; exit }'
}

# True when that builder can attach attestations: every driver but docker can; the docker
# driver only on an engine that stores images in containerd.
attaches_attestations() {
  case "$1" in
    "") return 1 ;;
    docker) docker info --format '{% raw %}{{json .DriverStatus}}{% endraw %}' 2>/dev/null | grep -q io.containerd.snapshotter ;;
    *) return 0 ;;
  esac
}

log_in() {
  step "logging in to $REGISTRY"
  aws ecr get-login-password | docker login --username AWS --password-stdin "$REGISTRY" >/dev/null
}

# Fargate runs the task on X86_64 (infra/service.yaml); build for it on any machine.
BUILD_ARGS=(
  --platform linux/amd64 --tag "$IMAGE_URI"
  --build-arg "VERSION=$(git describe --always --dirty)"
  --build-arg "REVISION=$(git rev-parse HEAD)"
)

push_with_attestations() {
  step "building and pushing $IMAGE_URI with an SBOM and max-mode provenance"
  # The builder pushes the image index itself: the linux/amd64 image and, beside it, an
  # attestation manifest (platform unknown/unknown) holding the SBOM and the provenance.
  # oci-artifact=false keeps BuildKit's attestation manifest format that ECR accepts: since
  # BuildKit 0.32 the default is the OCI artifact form, which ECR has refused with a 405
  # (moby/buildkit#5747).
  docker buildx build "${BUILD_ARGS[@]}" --sbom=true --provenance=mode=max \
    --output type=registry,oci-artifact=false .
}

push_without_attestations() {
  step "building $IMAGE_URI (no SBOM or provenance: the $1 builder cannot attach them)"
  note "WARNING: this image carries no SBOM and no provenance. CI builds with both;"
  note "for a laptop: docker buildx create --use --driver docker-container (docs/deployment.md)."
  DOCKER_BUILDKIT=1 docker build "${BUILD_ARGS[@]}" .
  step "pushing $IMAGE_URI"
  docker push "$IMAGE_URI"
}

driver="$(builder_driver)"
if attaches_attestations "$driver"; then
  log_in
  push_with_attestations
elif [[ "${CI:-}" == true ]]; then
  die "the buildx builder (driver: ${driver:-none}) cannot attach the SBOM and provenance CI must push." \
    "Set up a docker-container builder before make deploy: docker buildx create --use --driver docker-container"
else
  log_in
  push_without_attestations "${driver:-legacy}"
fi
