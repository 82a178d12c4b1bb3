"""Server replies of the 0.56 containers cases that both 0.56 recorders send (py056_scenarios and
ts039_scenarios), so that the two SDKs are recorded against the same server data. Plain data:
nothing here imports an SDK."""

from __future__ import annotations

# The 0.56 Image record (list_images, inspect_image).
IMAGE_056 = {
    "id": "sha256:abc",
    "preferred_ref": "ghcr.io/example/chatbot:1.2.3",
    "references": ["ghcr.io/example/chatbot:1.2.3", "chatbot:latest"],
    "labels": {"org.opencontainers.image.title": "chatbot ✓"},
    "created_at": "2025-01-02T03:04:05Z",
    "updated_at": "2025-01-03T04:05:06.250000+00:00",
    "target_media_type": "application/vnd.oci.image.index.v1+json",
}

INSPECT_IMAGE_REPLY = {
    "image": IMAGE_056,
    "target": {"digest": "sha256:idx", "media_type": "application/vnd.oci.image.index.v1+json", "size": 1024,
               "annotations": {}},
    "selected_manifest": {"digest": "sha256:man", "media_type": "application/vnd.oci.image.manifest.v1+json",
                          "size": 512},
    "manifests": [
        {"descriptor": {"digest": "sha256:man", "size": 512}, "platform_os": "linux",
         "platform_architecture": "amd64"},
        {"descriptor": {"digest": "sha256:man2"}, "platform_os": "linux", "platform_architecture": "arm64",
         "platform_variant": "v8"},
    ],
    "config": {"digest": "sha256:cfg", "size": 2048},
    "layers": [{"digest": "sha256:l1", "size": 1000000, "annotations": {"org.opencontainers.image.title": "ä"}}],
    "content_size": 1003584,
}

# list_builds with a build's published_images.
PUBLISHED_BUILDS_REPLY = {"builds": [{
    "id": "b-7", "tag": "chatbot:dev", "status": "succeeded", "exit_code": 0,
    "published_images": [{"tag": "chatbot:dev", "digest": "sha256:pub", "resolved_ref": "ghcr.io/x/chatbot@sha256:pub",
                          "optimized": True}],
}]}
