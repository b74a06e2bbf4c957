"""The one exception every failure in `crypto/` raises."""


class CryptoError(Exception):
    """Decryption, unwrapping, verification or parsing failed.

    Raised for a wrong key, wrong associated data or context, a flipped bit, a bad signature,
    a malformed token or a wrong password. Messages never contain key material.
    """
