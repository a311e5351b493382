"""A scripted Amazon ECR API for the scan gate's tests: the real AWS CLI talks to it.

moto (see tests/moto_server_patched.py) keeps one scan result per image and never
moves a scan from IN_PROGRESS to COMPLETE, FAILED or UNSUPPORTED_IMAGE, and it
scans nothing on push; those are the states the gate must tell apart. This server
answers the four operations scripts/scan_gate.sh calls (BatchGetImage,
DescribeImageScanFindings, StartImageScan, and the waiter's DescribeImageScanFindings)
from a script of responses per image digest, and every answer it sends is first
validated against botocore's ECR service model, so its shapes are AWS's.
"""

import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import botocore.session
from botocore.validate import ParamValidator

TARGET_PREFIX = "AmazonEC2ContainerRegistry_V20150921."
REGISTRY_ID = "123456789012"
ECR = botocore.session.get_session().get_service_model("ecr")

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def digest_of(manifest: str) -> str:
    return "sha256:" + hashlib.sha256(manifest.encode()).hexdigest()


def image_manifest(layer: str) -> str:
    """An OCI image manifest whose one layer is named by layer (any text)."""
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": digest_of(f"config {layer}"),
                "size": 1000,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": digest_of(layer),
                    "size": 30000000,
                }
            ],
        }
    )


def attested_index(platform_digest: str, attestation_digest: str) -> str:
    """The index BuildKit pushes with --sbom and --provenance: the image and its attestations.

    As moby/buildkit's docs/attestations/attestation-storage.md shows it: the attestation
    manifest has the platform unknown/unknown and names the image it describes.
    """
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": platform_digest,
                    "size": 1234,
                    "platform": {"architecture": "amd64", "os": "linux"},
                },
                {
                    "mediaType": OCI_MANIFEST,
                    "digest": attestation_digest,
                    "size": 840,
                    "annotations": {
                        "vnd.docker.reference.digest": platform_digest,
                        "vnd.docker.reference.type": "attestation-manifest",
                    },
                    "platform": {"architecture": "unknown", "os": "unknown"},
                },
            ],
        }
    )


def scan(status: str, description: str = "", findings: list[dict] | None = None) -> dict:
    """A DescribeImageScanFindings answer of basic scanning (without the image's names)."""
    answer = {"imageScanStatus": {"status": status, "description": description or status}}
    if findings is not None:
        counts: dict[str, int] = {}
        for finding in findings:
            counts[finding["severity"]] = counts.get(finding["severity"], 0) + 1
        answer["imageScanFindings"] = {
            "imageScanCompletedAt": 1796000000.0,
            "vulnerabilitySourceUpdatedAt": 1795990000.0,
            "findingSeverityCounts": counts,
            "findings": findings,
        }
    return answer


def finding(severity: str, cve: str, package: str, version: str) -> dict:
    """One finding of basic scanning, with the attributes AWS gives it."""
    return {
        "name": cve,
        "uri": f"https://security-tracker.debian.org/tracker/{cve}",
        "severity": severity,
        "attributes": [
            {"key": "package_version", "value": version},
            {"key": "package_name", "value": package},
            {"key": "CVSS3_SCORE", "value": "9.8"},
        ],
    }


@dataclass
class Image:
    manifest: str
    media_type: str
    tags: list[str] = field(default_factory=list)
    # Answers to DescribeImageScanFindings in order; the last one repeats. Empty: no scan
    # exists (ScanNotFoundException) until StartImageScan, which moves to after_start.
    scans: list[dict] = field(default_factory=list)
    after_start: list[dict] = field(default_factory=list)

    @property
    def digest(self) -> str:
        return digest_of(self.manifest)


class AwsError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


class FakeEcr:
    """One repository's images and scripted scans, and a record of the calls made."""

    def __init__(self, repository: str):
        self.repository = repository
        self.images: list[Image] = []
        self.calls: list[tuple[str, dict]] = []
        self._lock = threading.Lock()

    def add(self, image: Image) -> Image:
        self.images.append(image)
        return image

    def scanned_digests(self, operation: str) -> list[str]:
        """The digests the calls of operation named, in order."""
        return [body["imageId"]["imageDigest"] for name, body in self.calls if name == operation]

    def _find(self, image_id: dict) -> Image | None:
        for image in self.images:
            by_digest = image_id.get("imageDigest") == image.digest
            if by_digest or image_id.get("imageTag") in image.tags:
                return image
        return None

    def _image(self, body: dict) -> Image:
        if body.get("repositoryName") != self.repository:
            name = body.get("repositoryName")
            raise AwsError("RepositoryNotFoundException", f"no repository {name}")
        image = self._find(body["imageId"])
        if image is None:
            raise AwsError("ImageNotFoundException", f"no image {body['imageId']}")
        return image

    def BatchGetImage(self, body: dict) -> dict:
        images, failures = [], []
        for image_id in body["imageIds"]:
            image = self._find(image_id)
            if image is None or body.get("repositoryName") != self.repository:
                failures.append(
                    {
                        "imageId": image_id,
                        "failureCode": "ImageNotFound",
                        "failureReason": "Requested image not found",
                    }
                )
                continue
            images.append(
                {
                    "registryId": REGISTRY_ID,
                    "repositoryName": self.repository,
                    "imageId": {"imageDigest": image.digest, **image_id},
                    "imageManifest": image.manifest,
                    "imageManifestMediaType": image.media_type,
                }
            )
        return {"images": images, "failures": failures}

    def DescribeImageScanFindings(self, body: dict) -> dict:
        image = self._image(body)
        if not image.scans:
            raise AwsError("ScanNotFoundException", f"Image scan does not exist for {image.digest}")
        answer = image.scans.pop(0) if len(image.scans) > 1 else image.scans[0]
        return {
            "registryId": REGISTRY_ID,
            "repositoryName": self.repository,
            "imageId": {"imageDigest": image.digest},
            **answer,
        }

    def StartImageScan(self, body: dict) -> dict:
        image = self._image(body)
        image.scans = list(image.after_start)
        return {
            "registryId": REGISTRY_ID,
            "repositoryName": self.repository,
            "imageId": {"imageDigest": image.digest},
            "imageScanStatus": {"status": "IN_PROGRESS", "description": "Scan started"},
        }

    def answer(self, operation: str, body: dict) -> tuple[int, dict]:
        """Return (HTTP status, JSON body), validated against the service model's output shape."""
        with self._lock:
            self.calls.append((operation, body))
            try:
                result = getattr(self, operation)(body)
            except AwsError as error:
                return 400, {"__type": error.code, "message": str(error)}
        shape = ECR.operation_model(operation).output_shape
        report = ParamValidator().validate(result, shape)
        assert not report.has_errors(), f"{operation}: not AWS's shape:\n{report.generate_report()}"
        # The validator checks types, not enums: check the two values the gate branches on.
        status = result.get("imageScanStatus", {}).get("status", "COMPLETE")
        assert status in ECR.shape_for("ScanStatus").enum, status
        for found in result.get("imageScanFindings", {}).get("findings", []):
            assert found["severity"] in ECR.shape_for("FindingSeverity").enum, found
        return 200, result


def serve(ecr: FakeEcr) -> tuple[ThreadingHTTPServer, str]:
    """Serve ecr on a free port of 127.0.0.1 in a thread; return the server and its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            operation = self.headers["X-Amz-Target"].removeprefix(TARGET_PREFIX)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            status, answer = ecr.answer(operation, body)
            payload = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"
