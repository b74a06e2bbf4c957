"""`divex oracle`: the match oracle as its own process (issue 20, scaled out), so the web
processes never hold the OPRF key.

One call, ``POST /evaluate``: a state's blinded elements, signed with that state's signing key
of the version named (`cases.hits.oracle.signed_request`); the oracle checks the signature
against the directory, the request's age, the elements and the state's day count, then
answers the evaluated elements and the day's total. Errors are JSON, as the API's.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import Flask, jsonify, request
from werkzeug.wrappers import Response

from cases.hits.oracle import SIGNED_FOR_SECONDS, MatchOracle
from cases.identity.directory_service import Directory
from cases.kernel.errors import Busy, DivexError, Forbidden, InvalidInput, NotFound
from crypto import CryptoError, canonical_json

MAX_ELEMENTS = 10_000


def create_oracle_app(oracle: MatchOracle, directory: Directory) -> Flask:
    app = Flask("divex-oracle")
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024

    @app.post("/evaluate")
    def evaluate() -> Any:
        try:
            state, elements = _checked(request.get_json(silent=True), directory)
            evaluated, total, key_id = oracle.evaluate_for(state, elements)
        except DivexError as error:
            return _error(error)
        return jsonify(evaluated=[base64.b64encode(e).decode() for e in evaluated],
                       total=total, key_id=key_id)

    return app


def _checked(body: Any, directory: Directory) -> tuple[str, list[bytes]]:
    """The state and its elements, once the request is shown to be the state's, and fresh."""
    if not isinstance(body, dict) or not isinstance(body.get("elements"), list):
        raise InvalidInput("Send a JSON object with the signed elements.")
    signed = {k: body.get(k) for k in ("state", "key_version", "signed_at", "elements")}
    try:
        public = directory.state(str(signed["state"])).public_keys_at(int(signed["key_version"]))
        Ed25519PublicKey.from_public_bytes(public.signing).verify(
            bytes.fromhex(str(body.get("signature"))), canonical_json(signed))
        age = (datetime.now(UTC) - datetime.fromisoformat(str(signed["signed_at"])))
        elements = [base64.b64decode(str(e), validate=True) for e in signed["elements"]]
    except (NotFound, CryptoError, InvalidSignature, ValueError, TypeError, binascii.Error):
        raise Forbidden("The request is not signed by the state it names.") from None
    if not 0 <= age.total_seconds() <= SIGNED_FOR_SECONDS:
        raise Forbidden("The request is too old or from the future.")
    if len(elements) > MAX_ELEMENTS:
        raise InvalidInput("At most %(limit)s elements a request.", limit=MAX_ELEMENTS)
    return str(signed["state"]), elements


def _error(error: DivexError) -> Response:
    response = jsonify(error={"status": error.status, "message": error.template % error.params})
    response.status_code = error.status
    if isinstance(error, Busy):
        response.headers["Retry-After"] = str(error.retry_after)
    return response
