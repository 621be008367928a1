"""Reads of the wechat app."""

from django.db.models import Exists, OuterRef

from core.crypto import blind_index_exact
from wechat.models import WeChatBinding

OPENID_PURPOSE = "wechat-openid"


def openid_index(openid: str) -> str:
    """Return the blind index of ``openid`` (how a binding is found without decrypting)."""
    return blind_index_exact(openid, purpose=OPENID_PURPOSE)


def binding_for_openid(openid: str) -> WeChatBinding | None:
    """Return the binding of ``openid`` with its resident, or None."""
    if not openid:
        return None
    return (
        WeChatBinding.objects.select_related("resident")
        .filter(openid_index=openid_index(openid))
        .first()
    )


def binding_for_resident(resident) -> WeChatBinding | None:
    """Return ``resident``'s binding, or None."""
    if resident is None or resident.pk is None:
        return None
    return WeChatBinding.objects.filter(resident=resident).first()


def binding_for_resident_id(resident_id: int) -> WeChatBinding | None:
    """Return the binding of the resident with primary key ``resident_id``, or None."""
    return WeChatBinding.objects.filter(resident_id=resident_id).first()


def openid_for_resident(resident) -> str | None:
    """Return the openid ``resident`` linked, or None (never log or show it)."""
    binding = binding_for_resident(resident)
    return binding.openid if binding is not None else None


def wechat_linked_annotation(resident_field: str = "pk") -> Exists:
    """
    Return whether the row's resident linked WeChat, to read with many residents at once:
    ``Resident.objects.annotate(wechat_linked=wechat_linked_annotation())``. A resident
    carrying ``wechat_linked`` costs ``resident_routes`` no query (reminder runs: no query
    per resident when WeChat is on).
    """
    return Exists(WeChatBinding.objects.filter(resident_id=OuterRef(resident_field)))
