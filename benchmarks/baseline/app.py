"""The baseline service: what a user writes by hand, with the routes the benchmark loads."""

from flask import Flask, jsonify, request

app = Flask(__name__)

TEMPLATES = {"en": "Hello, {name}!", "fr": "Bonjour, {name} !"}


@app.get("/healthz")
def healthz():
    return jsonify(status="ok")


@app.get("/readyz")
def readyz():
    return jsonify(status="ready")


# The same contract as the generated example resource, validated by hand.
@app.post("/api/v1/greetings")
def create_greeting():
    body = request.get_json(silent=True)
    name = body.get("name") if isinstance(body, dict) else None
    language = request.args.get("language", "en")
    if not isinstance(name, str) or not 1 <= len(name) <= 100 or language not in TEMPLATES:
        return jsonify(error={"status": 422, "message": "name or language is not valid"}), 422
    return jsonify(message=TEMPLATES[language].format(name=name), language=language)
