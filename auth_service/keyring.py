"""Ed25519 signing keys: sign with the active one, verify with any configured one."""

from __future__ import annotations

import base64
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .config import AuthSettings, parse_key_map

log = logging.getLogger(__name__)


def new_private_pem() -> str:
    """A fresh Ed25519 private key as unencrypted PKCS#8 PEM."""
    return (
        Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


def load_private_pem(pem: str, kid: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"AUTH_JWT_KEYS[{kid!r}] is not a readable PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"AUTH_JWT_KEYS[{kid!r}] is not an Ed25519 key")
    return key


def public_jwk(kid: str, key: Ed25519PublicKey) -> dict[str, str]:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "use": "sig", "alg": "EdDSA"}


@dataclass(frozen=True, slots=True)
class KeyRing:
    active_kid: str
    private: Ed25519PrivateKey
    public: dict[str, Ed25519PublicKey]

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> KeyRing:
        pems = parse_key_map(settings.jwt_keys.get_secret_value())
        if not pems:  # the settings validator already refused this in production
            kid = f"ephemeral-{secrets.token_hex(4)}"
            log.warning("no AUTH_JWT_KEYS: signing with throw-away key %s (dev only)", kid)
            pems = {kid: new_private_pem()}
        keys = {kid: load_private_pem(pem, kid) for kid, pem in pems.items()}
        active = settings.jwt_active_kid or next(iter(keys))
        return cls(active, keys[active], {kid: k.public_key() for kid, k in keys.items()})

    def jwks(self) -> dict[str, Any]:
        return {"keys": [public_jwk(kid, key) for kid, key in self.public.items()]}


if __name__ == "__main__":  # python -m auth_service.keyring [kid]: a value for AUTH_JWT_KEYS
    import json
    import sys

    print(
        json.dumps({sys.argv[1] if len(sys.argv) > 1 else secrets.token_hex(4): new_private_pem()})
    )
