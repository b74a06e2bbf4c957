"""divex cryptography: sealed case content, wrapped case keys, signed hash-chained events."""

from .boxes import open_sealed, recovery_private_key, seal_to
from .canonical import canonical_json, sha256_hex
from .casekey import CaseKey, token_key_id
from .chain import GENESIS_HASH, event_hash, verify_chain
from .errors import CryptoError
from .merkle import (
    EMPTY_ROOT,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    tree_root,
    verify_consistency,
    verify_inclusion,
)
from .passwords import (
    DEFAULT_KDF,
    DERIVATIONS,
    MAX_KDF,
    DerivationsBusy,
    KdfParams,
    open_with_password,
    params_of,
    seal_with_password,
)
from .signing import sign_and_hash_event, sign_event, signing_bytes, verify_event
from .statekeys import Keyring, StateKeyPair, StatePublicKeys
from .userkey import UserKey
from .wrapping import unwrap_case_key, wrap_case_key, wrapped_key_version

__all__ = [
    "DEFAULT_KDF",
    "DERIVATIONS",
    "EMPTY_ROOT",
    "GENESIS_HASH",
    "MAX_KDF",
    "CaseKey",
    "CryptoError",
    "DerivationsBusy",
    "KdfParams",
    "Keyring",
    "StateKeyPair",
    "StatePublicKeys",
    "UserKey",
    "canonical_json",
    "consistency_proof",
    "event_hash",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "open_sealed",
    "open_with_password",
    "params_of",
    "recovery_private_key",
    "seal_to",
    "seal_with_password",
    "sha256_hex",
    "sign_and_hash_event",
    "sign_event",
    "signing_bytes",
    "token_key_id",
    "tree_root",
    "unwrap_case_key",
    "verify_chain",
    "verify_consistency",
    "verify_event",
    "verify_inclusion",
    "wrap_case_key",
    "wrapped_key_version",
]
