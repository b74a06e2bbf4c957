"""The offline audit bundle: everything `verify` needs, nothing a reader of cases would want.

A gzip file of JSON lines: a first line naming the format and counts, one line per
checkpoint, one per `LogRecord` (clear header, body digest, signature), and a last line with
the public-key history as the exporter derived it (the verifier derives it again and compares).
No body, no wrapped key, no private key is ever written.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from cases.audit.checkpoint import Checkpoint, Cosignature, WitnessCosignature
from cases.audit.log import Finding, KeyHistory, LogRecord, Verification, verify
from cases.kernel.errors import InvalidInput
from crypto.note import Verifier

FORMAT = "divex-audit-bundle/1"


def write_bundle(path: Path, records: Iterable[LogRecord], checkpoints: list[Checkpoint],
                 record_count: int, exported_at: str) -> int:
    """Writes the bundle; returns how many records it holds."""
    history = KeyHistory()
    written = 0
    with gzip.open(path, "wt", encoding="utf-8") as out:
        _line(out, {"format": FORMAT, "exported_at": exported_at, "records": record_count,
                    "checkpoints": len(checkpoints)})
        for checkpoint in checkpoints:
            _line(out, {"checkpoint": asdict(checkpoint)})
        for record in records:
            history.learn(record)
            _line(out, {"record": asdict(record)})
            written += 1
        _line(out, {"keys": history.entries()})
    return written


def _line(out: Any, value: dict[str, Any]) -> None:
    out.write(json.dumps(value, sort_keys=True, ensure_ascii=False))
    out.write("\n")


class Bundle:
    """A bundle being read: its header and checkpoints at once, its records as a stream."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = _open(path)
        head = self._next()
        if head.get("format") != FORMAT:
            raise InvalidInput("%(path)s is not a divex audit bundle (%(format)s).",
                               field="bundle", path=path, format=FORMAT)
        self.exported_at = str(head.get("exported_at", ""))
        self.record_count = int(head.get("records", 0))
        self.checkpoints = [_checkpoint(self._next()["checkpoint"])
                            for _ in range(int(head.get("checkpoints", 0)))]
        self.stated_keys: dict[str, Any] | None = None

    def records(self) -> Iterator[LogRecord]:
        for _ in range(self.record_count):
            entry = self._next().get("record")
            if not isinstance(entry, dict):
                raise InvalidInput("%(path)s ends early or is out of order.", field="bundle",
                                   path=self.path)
            yield LogRecord(int(entry["notification_id"]), dict(entry["header"]),
                            str(entry["body_sha256"]), str(entry["signature"]))
        self.stated_keys = self._next().get("keys")

    def _next(self) -> dict[str, Any]:
        try:
            line = self._file.readline()
            value = json.loads(line) if line else None
        except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError):
            value = None
        if not isinstance(value, dict):
            raise InvalidInput("%(path)s is damaged or not a divex audit bundle.",
                               field="bundle", path=self.path)
        return value

    def close(self) -> None:
        self._file.close()


def _open(path: Path) -> Any:
    try:
        return gzip.open(path, "rt", encoding="utf-8")
    except OSError as error:
        raise InvalidInput("Cannot read %(path)s: %(reason)s", field="bundle", path=path,
                           reason=error.strerror) from None


def _checkpoint(entry: dict[str, Any]) -> Checkpoint:
    try:
        cosigned = tuple(Cosignature(**c) for c in entry.get("cosignatures", ()))
        witnessed = tuple(WitnessCosignature(**c) for c in entry.get("witnessed", ()))
        origin = entry.get("origin")  # absent from bundles of the first checkpoint format
        return Checkpoint(int(entry["size"]), str(entry["root"]), str(entry["time"]),
                          str(entry["log_key"]), str(entry["signature"]), cosigned,
                          None if origin is None else str(origin), witnessed)
    except (KeyError, TypeError, ValueError):
        raise InvalidInput("A checkpoint in the bundle is malformed.", field="bundle") from None


def verify_bundle(path: Path, progress: Any = None, workers: int = 1,
                  observed: Iterable[Checkpoint] = (),
                  witnesses: Iterable[Verifier] = ()) -> Verification:
    """Verifies a bundle with no access to the exchange: records, checkpoints, key history;
    with checkpoints seen elsewhere (``observed``) and other trusted ``witnesses``."""
    bundle = Bundle(path)
    try:
        result = verify(bundle.records(), [*bundle.checkpoints, *observed], progress, workers,
                        witnesses)
    except (KeyError, TypeError, ValueError) as error:
        raise InvalidInput("%(path)s holds a malformed record: %(problem)s", field="bundle",
                           path=path, problem=error) from None
    finally:
        bundle.close()
    if result.ok and bundle.stated_keys != result.keys:
        return replace(result, finding=Finding(
            0, "bundle", 0, "keys", "the key history the bundle states differs from the keys "
            "its records publish"))
    return result
