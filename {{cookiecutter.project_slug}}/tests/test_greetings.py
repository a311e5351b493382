import pytest

URL = "/api/v1/greetings"


def test_greeting_defaults_to_english(client):
    """A valid body without a language is greeted in English."""
    response = client.post(URL, json={"name": "Ada"})
    assert response.status_code == 200
    assert response.json == {"message": "Hello, Ada!", "language": "en"}


@pytest.mark.parametrize(
    ("language", "message"),
    [("fr", "Bonjour, Ada !"), ("de", "Hallo, Ada!"), ("es", "¡Hola, Ada!")],
)
def test_greeting_in_the_requested_language(client, language, message):
    """The language query parameter picks the greeting."""
    response = client.post(URL, query_string={"language": language}, json={"name": "Ada"})
    assert response.json == {"message": message, "language": language}


@pytest.mark.parametrize(
    ("query", "body", "message"),
    [
        ({}, {}, "body field 'name': Missing data for required field."),
        ({}, {"name": ""}, "body field 'name': Length must be between 1 and 100."),
        ({}, {"name": "x" * 101}, "body field 'name': Length must be between 1 and 100."),
        ({}, {"name": 7}, "body field 'name': Not a valid string."),
        ({}, {"name": "Ada", "nmae": "Ada"}, "body field 'nmae': Unknown field."),
        ({}, ["Ada"], "body: Invalid input type."),
        ({"language": "xx"}, {"name": "Ada"}, "query parameter 'language': Must be one of:"),
        ({"lang": "fr"}, {"name": "Ada"}, "query parameter 'lang': Unknown field."),
    ],
)
def test_invalid_requests_get_a_json_422_naming_the_field(client, query, body, message):
    """A request the schemas refuse is a 422 in the shared error shape, naming the field."""
    response = client.post(URL, query_string=query, json=body)
    assert response.status_code == 422
    assert set(response.json) == {"error"}
    assert response.json["error"]["status"] == 422
    assert response.json["error"]["message"].startswith(message)


def test_malformed_json_is_a_json_400(client):
    """A body that is not JSON at all is a 400 in the shared error shape."""
    response = client.post(URL, data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json == {"error": {"status": 400, "message": "body: Invalid JSON body."}}


def test_a_body_without_a_json_content_type_is_refused(client):
    """Without Content-Type: application/json the body is not read, so the name is missing."""
    response = client.post(URL, data='{"name": "Ada"}', content_type="text/plain")
    assert response.status_code == 422
    assert "'name'" in response.json["error"]["message"]
