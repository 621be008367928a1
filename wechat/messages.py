"""
The XML of WeChat callbacks: incoming messages read safely, passive replies written.

Incoming XML comes from outside (anyone can POST to the callback URL before the signature is
checked, and a safe-mode body is XML twice), so it is parsed with **defusedxml**: no DTD at
all (``forbid_dtd``), hence no entity expansion ("billion laughs", quadratic blow-up) and no
external entities (file or network reads). The size is capped by the view before parsing.

Fields are those of WeChat's 接收普通消息 / 接收事件推送 (``ToUserName``, ``FromUserName``,
``CreateTime``, ``MsgType``, ``Content``, ``PicUrl``, ``MediaId``, ``MsgId``, ``Event``…);
a passive reply (被动回复用户消息) is a ``text`` message back to the sender.
"""

import time
from xml.etree.ElementTree import Element, ParseError, SubElement, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from wechat.crypto import CallbackRefused

MAX_FIELD = 4096  # no field WeChat sends is longer (a text message is at most 2048 bytes)


def xml_fields(body: bytes) -> dict[str, str]:
    """
    Return the top-level fields of the XML message ``body`` as text. Raise
    ``CallbackRefused`` for anything that is not one flat ``<xml>`` element.
    """
    try:
        root = fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError):
        raise CallbackRefused("bad_xml", 400) from None
    if root.tag != "xml":
        raise CallbackRefused("bad_xml", 400)
    fields = {}
    for child in root:
        text = (child.text or "").strip()
        if len(child) or len(text) > MAX_FIELD:
            raise CallbackRefused("bad_xml", 400)
        fields[child.tag] = text
    return fields


def _xml(fields: dict[str, str]) -> bytes:
    root = Element("xml")
    for name, value in fields.items():
        SubElement(root, name).text = value
    return tostring(root, encoding="utf-8", xml_declaration=False)


def text_reply(*, to_user: str, from_user: str, content: str) -> bytes:
    """Return the passive reply XML of a text message ``content`` to ``to_user``."""
    return _xml(
        {
            "ToUserName": to_user,
            "FromUserName": from_user,
            "CreateTime": str(int(time.time())),
            "MsgType": "text",
            "Content": content,
        }
    )


def encrypted_reply(*, encrypt: str, msg_signature: str, timestamp: str, nonce: str) -> bytes:
    """Return the safe-mode envelope of an encrypted reply."""
    return _xml(
        {
            "Encrypt": encrypt,
            "MsgSignature": msg_signature,
            "TimeStamp": timestamp,
            "Nonce": nonce,
        }
    )
