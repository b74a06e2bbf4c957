"""Password derivations run one at a time per process, behind a short queue that never hangs."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest

from crypto import CryptoError, DerivationsBusy
from crypto.passwords import DerivationGate

# Run in a child process: without the gate the threads hang for good inside OpenSSL, and a
# hung child is a failed test, not a hung suite.
EIGHT_AT_ONCE = """
import threading
from crypto import DEFAULT_KDF, DERIVATIONS, open_with_password, seal_with_password
DERIVATIONS.configure(queue=16, wait_seconds=120)  # a busy machine must not turn any away
blob = seal_with_password("pw", b"user key", DEFAULT_KDF)
opened = []
threads = [threading.Thread(target=lambda: opened.append(open_with_password("pw", blob)))
           for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
print(len(opened), open_with_password("pw", blob) == b"user key")
"""


def test_eight_derivations_at_the_product_cost_in_eight_threads_all_return() -> None:
    # Without the gate, two of these at once never return and later ones raise MemoryError.
    try:
        done = subprocess.run([sys.executable, "-c", EIGHT_AT_ONCE], capture_output=True,
                              text=True, timeout=60, check=True)
    except subprocess.TimeoutExpired:
        pytest.fail("concurrent password derivations hung")
    assert done.stdout.split() == ["8", "True"]


def hold(gate: DerivationGate, release: threading.Event) -> threading.Thread:
    """A derivation that keeps the gate's one slot until `release` is set."""
    def run() -> None:
        with gate.slot():
            release.wait(10)
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    time.sleep(0.05)
    return thread


def test_a_caller_beyond_the_queue_is_refused_at_once_with_a_time_to_retry() -> None:
    gate, release = DerivationGate(queue=0, wait_seconds=10), threading.Event()
    holder = hold(gate, release)
    started = time.monotonic()
    with pytest.raises(DerivationsBusy) as refused, gate.slot():
        pass
    assert time.monotonic() - started < 1
    assert refused.value.retry_after >= 1
    assert not isinstance(refused.value, CryptoError)  # not a wrong password
    release.set()
    holder.join()
    with gate.slot():  # the slot is free again
        pass


def test_a_caller_in_the_queue_waits_its_turn_then_gives_up_after_the_wait() -> None:
    gate, release = DerivationGate(queue=1, wait_seconds=0.3), threading.Event()
    holder = hold(gate, release)
    started = time.monotonic()
    with pytest.raises(DerivationsBusy), gate.slot():
        pass
    assert 0.25 < time.monotonic() - started < 2
    release.set()
    holder.join()


def test_a_queued_caller_runs_as_soon_as_the_slot_is_free() -> None:
    gate, release = DerivationGate(queue=1, wait_seconds=10), threading.Event()
    holder = hold(gate, release)
    threading.Timer(0.2, release.set).start()
    with gate.slot():
        assert release.is_set()
    holder.join()


def test_the_queue_refuses_nonsense_sizes() -> None:
    with pytest.raises(ValueError):
        DerivationGate(queue=-1)
    with pytest.raises(ValueError):
        DerivationGate(wait_seconds=0)
