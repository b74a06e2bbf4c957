"""The log's Ed25519 signature checks, run here or spread over worker processes.

Verifying signatures is most of the cost of `divex audit verify`; everything else about a
record (chain, versions, key history) must be checked in order, but the signatures need not.
"""

from __future__ import annotations

from concurrent.futures import Future, ProcessPoolExecutor
from types import TracebackType

from crypto import CryptoError
from crypto.signing import verify_signature

Job = tuple[bytes, bytes, bytes]  # signing public key, signed bytes, signature


def _failures(positions: list[int], jobs: list[Job]) -> list[int]:
    """The positions whose signature does not verify (runs in a worker process)."""
    bad = []
    for position, (public, message, signature) in zip(positions, jobs, strict=True):
        try:
            verify_signature(public, message, signature)
        except CryptoError:
            bad.append(position)
    return bad


class SignatureChecks:
    """With one worker each check runs at once; with more, in batches in other processes,
    and `first_failure` waits for them all."""

    def __init__(self, workers: int = 1, batch: int = 2000) -> None:
        self.pool = ProcessPoolExecutor(workers) if workers > 1 else None
        self.batch = batch
        self.positions: list[int] = []
        self.jobs: list[Job] = []
        self.pending: list[Future[list[int]]] = []

    def add(self, position: int, job: Job) -> bool:
        """Queues (or runs) one check; False when run here and it failed."""
        if self.pool is None:
            return not _failures([position], [job])
        self.positions.append(position)
        self.jobs.append(job)
        if len(self.jobs) >= self.batch:
            self._submit()
        return True

    def first_failure(self) -> int | None:
        if self.pool is None:
            return None
        self._submit()
        failed = [p for future in self.pending for p in future.result()]
        return min(failed, default=None)

    def _submit(self) -> None:
        if self.jobs and self.pool is not None:
            self.pending.append(self.pool.submit(_failures, self.positions, self.jobs))
            self.positions, self.jobs = [], []

    def __enter__(self) -> SignatureChecks:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
