"""Shared helpers for the crypto tests."""

from collections.abc import Iterator


def flipped_bits(blob: bytes) -> Iterator[tuple[int, bytes]]:
    """Every copy of `blob` with exactly one bit flipped, with the bit index."""
    for bit in range(len(blob) * 8):
        damaged = bytearray(blob)
        damaged[bit // 8] ^= 1 << (bit % 8)
        yield bit, bytes(damaged)
