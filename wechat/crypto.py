"""
What WeChat's servers sign and encrypt: the callback signature and the "safe mode" cipher.

As documented by WeChat (接入指南; 消息加解密 / WXBizMsgCrypt, the technical plan):

- **signature** = SHA-1 hex of the sorted, concatenated ``[token, timestamp, nonce]``
  (plaintext mode, and the server verification ``GET``); in safe mode **msg_signature** =
  SHA-1 hex of the sorted ``[token, timestamp, nonce, encrypt]``.
- **safe mode**: AES-256-CBC with ``key = base64decode(EncodingAESKey + "=")`` (32 bytes)
  and ``IV = key[:16]``; the plaintext is 16 random bytes, the XML's length as 4 bytes in
  network order, the XML, then the official account's app ID, padded PKCS#7 to a multiple
  of **32** bytes (not AES's 16). The result travels base64-encoded in ``<Encrypt>``.

Every failure raises ``CallbackRefused`` with a short code for the log line; nothing here
logs or returns what the message said.
"""

import base64
import binascii
import hashlib
import hmac
import secrets
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

BLOCK = 32  # WeChat pads to 32 bytes, the key length
RANDOM_PREFIX = 16


class CallbackRefused(Exception):
    """A callback that does not come from WeChat as documented; ``code`` says why."""

    def __init__(self, code: str, status: int = 403):
        super().__init__(code)
        self.code = code
        self.status = status


def signature(*parts: str) -> str:
    """Return WeChat's SHA-1 signature of ``parts`` (sorted, then concatenated)."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()  # noqa: S324


def signature_check(given: str, *parts: str) -> None:
    """Raise ``CallbackRefused`` unless ``given`` is the signature of ``parts``."""
    if not given or not hmac.compare_digest(signature(*parts), given.lower()):
        raise CallbackRefused("bad_signature")


def aes_key(encoding_aes_key: str) -> bytes:
    """Return the 32-byte AES key of a 43-character EncodingAESKey."""
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, ValueError) as error:
        raise ValueError("WECHAT_ENCODING_AES_KEY is not 43 base64 characters") from error
    if len(key) != BLOCK:
        raise ValueError("WECHAT_ENCODING_AES_KEY is not 43 base64 characters")
    return key


def _cipher(key: bytes) -> Cipher:
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def decrypt(encrypted: str, *, key: bytes, app_id: str) -> bytes:
    """
    Return the XML inside the base64 ``encrypted`` (safe mode). Raise ``CallbackRefused``
    for anything that is not a well-formed message for the app ``app_id``.
    """
    try:
        data = base64.b64decode(encrypted, validate=True)
    except (binascii.Error, ValueError):
        raise CallbackRefused("bad_base64", 400) from None
    if not data or len(data) % BLOCK:
        raise CallbackRefused("bad_ciphertext", 400)
    decryptor = _cipher(key).decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    pad = plain[-1]
    if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
        raise CallbackRefused("bad_padding", 400)
    plain = plain[:-pad]
    if len(plain) < RANDOM_PREFIX + 4:
        raise CallbackRefused("bad_plaintext", 400)
    (length,) = struct.unpack("!I", plain[RANDOM_PREFIX : RANDOM_PREFIX + 4])
    body = plain[RANDOM_PREFIX + 4 :]
    if length > len(body):
        raise CallbackRefused("bad_plaintext", 400)
    xml, sender_app = body[:length], body[length:]
    # The app ID closes the plaintext: a message encrypted for another account (same key
    # reused, or a copy replayed from another service) is not ours.
    if not hmac.compare_digest(sender_app, app_id.encode("utf-8")):
        raise CallbackRefused("wrong_appid")
    return xml


def encrypt(xml: bytes, *, key: bytes, app_id: str) -> str:
    """Return ``xml`` encrypted for WeChat (safe mode), base64-encoded."""
    plain = secrets.token_bytes(RANDOM_PREFIX) + struct.pack("!I", len(xml)) + xml
    plain += app_id.encode("utf-8")
    pad = BLOCK - len(plain) % BLOCK
    plain += bytes([pad]) * pad
    encryptor = _cipher(key).encryptor()
    return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")
