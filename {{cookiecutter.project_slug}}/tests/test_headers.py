import pytest


@pytest.mark.parametrize("path", ["/healthz", "/openapi.json", "/nowhere"])
def test_every_response_forbids_content_sniffing(client, path):
    """Answers and errors alike carry X-Content-Type-Options: nosniff."""
    assert client.get(path).headers["X-Content-Type-Options"] == "nosniff"
