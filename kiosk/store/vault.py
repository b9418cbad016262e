"""Personal files waiting for the backend, encrypted at rest: scanned pages, signatures, forms.

An application's materials and signature stay on the terminal only until the backend has them.
While they wait they are sealed with AES-256-GCM under a key derived from the terminal secret
(HKDF-SHA256, its own ``info``, so the key signs nothing and the secret decrypts nothing
directly). Each file has a fresh 96-bit nonce and is bound to its bundle and name (the
associated data), so a file copied under another name or into another bundle does not open.
Files are written under a temporary name, fsynced and renamed: a power cut leaves either the
whole sealed file or none.

The vault holds bytes and never looks inside them; nothing here is logged but bundle keys
(which carry no personal data) and sizes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kiosk.store.db import StoreDamagedError, StoreError, store_error

log = logging.getLogger(__name__)

MAGIC = b"KVLT1"  # format version: magic, 12-byte nonce, ciphertext with its 16-byte tag
NONCE_BYTES = 12
_NAME = re.compile(r"[A-Za-z0-9._-]{1,96}")


def vault_key(secret: bytes) -> bytes:
    """The 256-bit key the vault seals with, derived from the terminal secret."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"kiosk-vault", info=b"materials at rest v1").derive(secret)


@dataclass(frozen=True)
class Sealed:
    """What the outbox row may say of a sealed file: its name, size and digest (of the plain bytes)."""

    name: str
    size: int
    sha256: str


class Vault:
    def __init__(self, folder: Path, secret: bytes) -> None:
        self.folder = Path(folder)
        self._aead = AESGCM(vault_key(secret))

    def _path(self, bundle: str, name: str = "") -> Path:
        for part in (bundle, name) if name else (bundle,):
            if not _NAME.fullmatch(part) or part.startswith("."):
                raise ValueError(f"vault names are 1-96 of A-Z a-z 0-9 . _ -: {part!r}")
        return self.folder / bundle / f"{name}.sealed" if name else self.folder / bundle

    def seal(self, bundle: str, name: str, data: bytes) -> Sealed:
        """Encrypt ``data`` to ``<folder>/<bundle>/<name>.sealed``; durable on return."""
        path = self._path(bundle, name)
        nonce = os.urandom(NONCE_BYTES)
        blob = MAGIC + nonce + self._aead.encrypt(nonce, data, f"{bundle}/{name}".encode())
        tmp = path.with_name(path.name + ".tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                f.write(blob)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
            _fsync_dir(path.parent)
        except OSError as e:
            tmp.unlink(missing_ok=True)
            raise store_error(e, f"{path}: cannot seal") from e
        return Sealed(name, len(data), hashlib.sha256(data).hexdigest())

    def open(self, bundle: str, name: str) -> bytes:
        """The plain bytes of a sealed file. ``StoreError`` when it is gone, ``StoreDamagedError``
        when it does not decrypt (damaged, or not sealed for this bundle and name)."""
        path = self._path(bundle, name)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            raise StoreError(f"{path}: not in the vault") from None
        except OSError as e:
            raise store_error(e, f"{path}: cannot read") from e
        if not blob.startswith(MAGIC) or len(blob) < len(MAGIC) + NONCE_BYTES + 16:
            raise StoreDamagedError(f"{path}: not a sealed file")
        nonce = blob[len(MAGIC): len(MAGIC) + NONCE_BYTES]
        try:
            return self._aead.decrypt(nonce, blob[len(MAGIC) + NONCE_BYTES:], f"{bundle}/{name}".encode())
        except InvalidTag:
            raise StoreDamagedError(f"{path}: does not decrypt (damaged, or sealed by another terminal)") from None

    def names(self, bundle: str) -> list[str]:
        folder = self._path(bundle)
        return sorted(p.name.removesuffix(".sealed") for p in folder.glob("*.sealed")) if folder.is_dir() else []

    def bundles(self) -> list[str]:
        return sorted(p.name for p in self.folder.iterdir() if p.is_dir()) if self.folder.is_dir() else []

    def delete(self, bundle: str) -> None:
        """Remove a bundle and everything in it (the backend has it, or it will never be sent)."""
        folder = self._path(bundle)
        if folder.exists():
            shutil.rmtree(folder)
            _fsync_dir(self.folder)
            log.info("vault: bundle %s deleted", bundle)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
