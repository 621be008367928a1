"""
WeChat's side of a callback, for tests: sign, encrypt and post messages as WeChat's servers
do, and read the passive reply.

Written from WeChat's documentation (接入指南, 消息加解密技术方案), independently of
``wechat/crypto.py``: padding by ``cryptography``'s PKCS7 at 256 bits, the length packed by
``int.to_bytes``, the signature over a list sorted here. A bug shared by both sides would
have to be made twice.
"""

import base64
import hashlib
import os
import time
import uuid
from xml.sax.saxutils import escape

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

CALLBACK_URL = "/wechat/callback/"


def sha1_signature(items: list[str]) -> str:
    joined = "".join(sorted(items))
    return hashlib.sha1(joined.encode()).hexdigest()


def aes_key_of(encoding_aes_key: str) -> bytes:
    return base64.b64decode(encoding_aes_key + "=")


def wechat_encrypt(xml: str | bytes, *, encoding_aes_key: str, app_id: str) -> str:
    key = aes_key_of(encoding_aes_key)
    body = xml.encode() if isinstance(xml, str) else xml
    plain = os.urandom(16) + len(body).to_bytes(4, "big") + body + app_id.encode()
    padder = padding.PKCS7(256).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()


def wechat_decrypt(encrypted: str, *, encoding_aes_key: str) -> tuple[bytes, str]:
    """Return ``(xml, app_id)`` of a safe-mode reply."""
    key = aes_key_of(encoding_aes_key)
    decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
    padded = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
    unpadder = padding.PKCS7(256).unpadder()
    plain = unpadder.update(padded) + unpadder.finalize()
    length = int.from_bytes(plain[16:20], "big")
    return plain[20 : 20 + length], plain[20 + length :].decode()


def message_xml(*, from_user: str, msg_type: str, to_user: str = "gh_linlitest", **fields) -> str:
    """Return an incoming message as WeChat writes it (接收普通消息 / 事件推送)."""
    parts = {
        "ToUserName": to_user,
        "FromUserName": from_user,
        "CreateTime": str(int(time.time())),
        "MsgType": msg_type,
        **fields,
    }
    inner = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in parts.items())
    return f"<xml>{inner}</xml>"


def image_xml(*, from_user: str, media_id: str, msg_id: str | None = None) -> str:
    return message_xml(
        from_user=from_user,
        msg_type="image",
        PicUrl="http://mmbiz.qpic.cn/fake",
        MediaId=media_id,
        MsgId=msg_id or str(uuid.uuid4().int >> 65),
    )


def text_xml(*, from_user: str, content: str, msg_id: str | None = None) -> str:
    return message_xml(
        from_user=from_user,
        msg_type="text",
        Content=escape(content),
        MsgId=msg_id or str(uuid.uuid4().int >> 65),
    )


def fresh_nonce() -> str:
    return str(uuid.uuid4().int)[:10]


def signed_query(*, token: str, timestamp: int | None = None, nonce: str | None = None) -> dict:
    """The query string of a plaintext-mode callback."""
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or fresh_nonce()
    return {
        "signature": sha1_signature([token, timestamp, nonce]),
        "timestamp": timestamp,
        "nonce": nonce,
        "openid": "",  # filled by callers that want it (WeChat sends the sender's openid)
    }


def post_plain(client, xml: str, *, token: str, timestamp=None, nonce=None, query=None, **extra):
    query = query or signed_query(token=token, timestamp=timestamp, nonce=nonce)
    url = f"{CALLBACK_URL}?signature={query['signature']}&timestamp={query['timestamp']}"
    url += f"&nonce={query['nonce']}"
    return client.generic("POST", url, xml.encode(), content_type="text/xml", **extra)


def safe_mode_body(
    xml: str, *, token: str, encoding_aes_key: str, app_id: str, timestamp=None, nonce=None
) -> tuple[str, bytes]:
    """Return ``(url, body)`` of a safe-mode callback carrying ``xml``."""
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or fresh_nonce()
    encrypted = wechat_encrypt(xml, encoding_aes_key=encoding_aes_key, app_id=app_id)
    msg_signature = sha1_signature([token, timestamp, nonce, encrypted])
    url = (
        f"{CALLBACK_URL}?signature={sha1_signature([token, timestamp, nonce])}"
        f"&timestamp={timestamp}&nonce={nonce}&encrypt_type=aes&msg_signature={msg_signature}"
    )
    body = f"<xml><ToUserName><![CDATA[gh_linlitest]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
    return url, body.encode()


def post_safe(client, xml: str, **kwargs):
    url, body = safe_mode_body(xml, **kwargs)
    return client.generic("POST", url, body, content_type="text/xml")
