#!/usr/bin/env bash
# Let an image be deployed only after ECR's scan of its linux/amd64 manifest finished without findings at or above SCAN_FAIL_SEVERITY.
#
# Usage: scripts/scan_gate.sh REPOSITORY_URI:TAG (or REPOSITORY_URI@sha256:...), called by
# scripts/deploy.sh. SCAN_FAIL_SEVERITY: CRITICAL (default), HIGH, MEDIUM, LOW or
# INFORMATIONAL blocks on findings of that severity or above; NONE lists them and blocks on
# none. A scan that did not finish (FAILED, UNSUPPORTED_IMAGE, ...) always blocks.
set -euo pipefail

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
IMAGE_URI="${1:-}"
SCAN_FAIL_SEVERITY="$(printf '%s' "${SCAN_FAIL_SEVERITY:-CRITICAL}" | tr '[:lower:]' '[:upper:]')"
SEVERITIES=(CRITICAL HIGH MEDIUM LOW INFORMATIONAL)
# An image index and the image manifests in it, Docker's and OCI's.
MEDIA_TYPES=(
  application/vnd.oci.image.index.v1+json
  application/vnd.docker.distribution.manifest.list.v2+json
  application/vnd.oci.image.manifest.v1+json
  application/vnd.docker.distribution.manifest.v2+json
)

command -v python3 >/dev/null ||
  die "python3 is needed to read the image index." "Install Python 3 (the repo's make install needs it too), then run make deploy again."
[[ "$IMAGE_URI" == */*[:@]* ]] ||
  die "usage: scripts/scan_gate.sh REPOSITORY_URI:TAG" "Deploy with make deploy, which names the image."
REPOSITORY="${IMAGE_URI#*/}"
if [[ "$REPOSITORY" == *@* ]]; then
  IMAGE_ID="imageDigest=${REPOSITORY#*@}"
  REPOSITORY="${REPOSITORY%%@*}"
else
  IMAGE_ID="imageTag=${REPOSITORY##*:}"
  REPOSITORY="${REPOSITORY%:*}"
fi

# The severities that block, most severe first: the threshold and every one above it.
blocking_severities() {
  local severity blocking=""
  [[ "$SCAN_FAIL_SEVERITY" == NONE ]] && return 0
  for severity in "${SEVERITIES[@]}"; do
    blocking="$blocking $severity"
    if [[ "$severity" == "$SCAN_FAIL_SEVERITY" ]]; then
      printf '%s\n' "${blocking# }"
      return 0
    fi
  done
  die "SCAN_FAIL_SEVERITY=$SCAN_FAIL_SEVERITY is not a severity." \
    "Use one of ${SEVERITIES[*]}, or NONE to list findings without blocking: make deploy SCAN_FAIL_SEVERITY=HIGH"
}

# Print the digest the tag names and the digest of its linux/amd64 image: the same for a
# single image; for an image index (BuildKit puts the SBOM and provenance in one), the
# entry for linux/amd64, never an attestation manifest (platform unknown/unknown), which
# ECR cannot scan (moby/buildkit#3499).
resolve_platform_image() {
  aws ecr batch-get-image --repository-name "$REPOSITORY" --image-ids "$IMAGE_ID" \
    --accepted-media-types "${MEDIA_TYPES[@]}" --output json |
    python3 -c '
import json, sys

images = json.load(sys.stdin)["images"]
if images:
    image = images[0]
    manifest = json.loads(image["imageManifest"])
    platform = image["imageId"]["imageDigest"]
    if "manifests" in manifest:
        platform = next(
            (
                entry["digest"]
                for entry in manifest["manifests"]
                if entry.get("platform", {}).get("os") == "linux"
                and entry["platform"].get("architecture") == "amd64"
            ),
            "",
        )
    print(image["imageId"]["imageDigest"], platform)
'
}

# Set STATUS and DESCRIPTION from the scan of DIGEST; STATUS is NONE when there is none.
# --no-paginate: the CLI's paginator fails on an answer without imageScanFindings, which is
# what a scan in progress returns.
read_scan_status() {
  local output
  if output="$(aws ecr describe-image-scan-findings --repository-name "$REPOSITORY" \
    --image-id "imageDigest=$DIGEST" --output text --no-paginate \
    --query '[imageScanStatus.status, imageScanStatus.description]' 2>&1)"; then
    STATUS="${output%%$'\t'*}"
    DESCRIPTION="${output#*$'\t'}"
  elif [[ "$output" == *ScanNotFoundException* ]]; then
    STATUS=NONE
    DESCRIPTION=""
  else
    die "could not read ECR's scan of $DIGEST: $output" \
      "The deploy role needs ecr:DescribeImageScanFindings on the repository (docs/deployment.md)."
  fi
}

# Print one line per finding of the given severities, from basic or enhanced scanning:
# severity, vulnerability, package, version.
findings_of() {
  local list
  list="$(printf "'%s'," "$@")"
  list="[${list%,}]"
  aws ecr describe-image-scan-findings --repository-name "$REPOSITORY" \
    --image-id "imageDigest=$DIGEST" --output text --query "[
      not_null(imageScanFindings.findings, \`[]\`)[?contains($list, severity)].[severity, name,
        attributes[?key=='package_name'].value | [0], attributes[?key=='package_version'].value | [0]],
      not_null(imageScanFindings.enhancedFindings, \`[]\`)[?contains($list, severity)].[severity,
        packageVulnerabilityDetails.vulnerabilityId,
        packageVulnerabilityDetails.vulnerablePackages[0].name,
        packageVulnerabilityDetails.vulnerablePackages[0].version]
    ][]"
}

indent() { sed 's/^/       /'; }

BLOCKING="$(blocking_severities)"
step "scan gate: $IMAGE_URI (blocks on ${BLOCKING:-no findings: SCAN_FAIL_SEVERITY=NONE})"

RESOLVED="$(resolve_platform_image)" ||
  die "could not read image $IMAGE_ID of repository $REPOSITORY (the AWS CLI's error is above)." \
    "Check it: aws ecr describe-images --repository-name $REPOSITORY --image-ids $IMAGE_ID"
read -r TAGGED DIGEST <<<"$RESOLVED" || true
[[ -n "${TAGGED:-}" ]] ||
  die "ECR has no image $IMAGE_ID in repository $REPOSITORY." \
    "List what it has: aws ecr describe-images --repository-name $REPOSITORY"
[[ -n "${DIGEST:-}" ]] ||
  die "the image index $TAGGED has no linux/amd64 image, the only platform Fargate runs here." \
    "Build for it: docker buildx build --platform linux/amd64 (make deploy does)."
if [[ "$DIGEST" != "$TAGGED" ]]; then
  note "image index $TAGGED; its linux/amd64 image, the one scanned and run: $DIGEST"
fi
FINDINGS_COMMAND="aws ecr describe-image-scan-findings --repository-name $REPOSITORY --image-id imageDigest=$DIGEST"

read_scan_status
if [[ "$STATUS" == NONE ]]; then
  # Scan on push was off when the image was pushed, or the registry's scanning rules skip it.
  note "ECR has not scanned $DIGEST: starting a scan"
  aws ecr start-image-scan --repository-name "$REPOSITORY" --image-id "imageDigest=$DIGEST" >/dev/null ||
    die "could not start a scan of $DIGEST (the AWS CLI's error is above)." \
      "The deploy role needs ecr:StartImageScan on the repository, or turn scan on push back on:" \
      "aws ecr put-image-scanning-configuration --repository-name $REPOSITORY --image-scanning-configuration scanOnPush=true"
  STATUS=IN_PROGRESS
fi
if [[ "$STATUS" == IN_PROGRESS || "$STATUS" == PENDING ]]; then
  note "waiting for ECR's scan (the AWS CLI waiter polls for up to 5 minutes)"
  # The waiter fails on a FAILED scan and at its time limit; the status read next says which.
  aws ecr wait image-scan-complete --repository-name "$REPOSITORY" \
    --image-id "imageDigest=$DIGEST" 2>/dev/null || true
  read_scan_status
fi

case "$STATUS" in
  # COMPLETE: basic scanning; ACTIVE: enhanced scanning, whose findings stay current.
  COMPLETE | ACTIVE) ;;
  IN_PROGRESS | PENDING)
    die "ECR's scan of $DIGEST has not finished yet; the image is not deployed." \
      "Run make deploy again in a few minutes: the image is pushed, so only the scan is waited for." ;;
  *)
    die "ECR's scan of $DIGEST ended $STATUS: ${DESCRIPTION:-no description}." \
      "An image ECR could not scan is not known to be safe, so it is not deployed." \
      "Details: $FINDINGS_COMMAND" \
      "UNSUPPORTED_IMAGE means basic scanning does not know the base image's OS: see docs/deployment.md, \"The scan gate\"." ;;
esac

# shellcheck disable=SC2016 # backquotes are JMESPath literals, not shell
TOTAL="$(aws ecr describe-image-scan-findings --repository-name "$REPOSITORY" \
  --image-id "imageDigest=$DIGEST" --output text \
  --query 'length(not_null(imageScanFindings.findings, imageScanFindings.enhancedFindings, `[]`))')"
if [[ "$SCAN_FAIL_SEVERITY" == NONE ]]; then
  note "scan $STATUS: $TOTAL findings; SCAN_FAIL_SEVERITY=NONE blocks on none:"
  findings_of "${SEVERITIES[@]}" | indent
  exit 0
fi
# shellcheck disable=SC2086 # one argument per severity
FOUND="$(findings_of $BLOCKING)"
if [[ -n "$FOUND" ]]; then
  printf '\nERROR: ECR found vulnerabilities of severity %s or above in %s; it is not deployed:\n' \
    "$SCAN_FAIL_SEVERITY" "$IMAGE_URI" >&2
  printf '       %s\n' "severity  vulnerability  package  version" >&2
  indent <<<"$FOUND" >&2
  printf '%s\n' \
    "       Next: rebuild on a patched base image (or update the package), commit, then make deploy." \
    "       Every finding: $FINDINGS_COMMAND" \
    "       To deploy it anyway, on your own judgement: make deploy SCAN_FAIL_SEVERITY=NONE" >&2
  exit 1
fi
note "scan $STATUS: $TOTAL findings, none of severity $SCAN_FAIL_SEVERITY or above"
