"""An external witness for tests: a real HTTP server speaking c2sp.org/tlog-witness
``add-checkpoint`` for one log, with its own Ed25519 cosignature/v1 key and its own record of
the latest checkpoint it cosigned. It can be stopped (offline) and started again."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from crypto import CryptoError
from crypto.note import COSIGNATURE_V1, NoteSigner, Verifier
from crypto.tlog import WitnessRefusal, check_submission, parse_add_checkpoint


class TestWitness:
    __test__ = False  # not a test class

    def __init__(self, origin: str, log_keys: Iterable[Verifier],
                 name: str = "witness.example/w1") -> None:
        self.origin = origin
        self.log_keys = list(log_keys)
        self.signer = NoteSigner(name, Ed25519PrivateKey.generate(), COSIGNATURE_V1)
        self.known: tuple[int, bytes] | None = None  # the latest (size, root) it cosigned
        self.requests: list[tuple[int, int]] = []  # (old size, status) of each request
        self._server: BaseWSGIServer | None = None
        self.port = 0

    @property
    def vkey(self) -> str:
        return self.signer.verifier().vkey()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._server = make_server("127.0.0.1", self.port, self._app, threaded=False)
        self.port = self._server.server_port
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _app(self, environ: dict, start_response):  # type: ignore[no-untyped-def]
        request = Request(environ)
        if request.path != "/add-checkpoint" or request.method != "POST":
            return Response("not found\n", 404)(environ, start_response)
        try:
            submitted = parse_add_checkpoint(request.get_data())
        except CryptoError as error:
            return Response(f"{error}\n", 400)(environ, start_response)
        try:
            signed = check_submission(submitted, self.origin, self.log_keys, self.known)
        except WitnessRefusal as refused:
            self.requests.append((submitted.old_size, refused.status))
            if refused.status == 409:
                answer = Response(f"{refused.known_size}\n", 409,
                                  content_type="text/x.tlog.size")
            else:
                answer = Response(f"{refused}\n", refused.status)
            return answer(environ, start_response)
        self.requests.append((submitted.old_size, 200))
        self.known = (signed.body.size, signed.body.root)
        line = self.signer.sign(signed.note.text, int(time.time()))
        return Response(line.line(), content_type="text/plain; charset=utf-8")(
            environ, start_response)
