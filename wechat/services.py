"""Writes of the wechat app: linking a resident's WeChat, and unlinking it."""

import logging

from django.db import IntegrityError, transaction

from wechat.models import WeChatBinding
from wechat.selectors import openid_index

logger = logging.getLogger(__name__)


def binding_create(*, resident, openid: str, language: str) -> WeChatBinding:
    """
    Link ``openid`` to ``resident`` and return the binding.

    One openid belongs to one resident: linking it again to another resident moves it. One
    resident has one WeChat: a new openid replaces the one they had. Every change is kept in
    the binding's history (without the openid), like other changes of a resident.
    """
    if not openid:
        raise ValueError("openid is empty")
    index = openid_index(openid)
    for attempt in range(2):
        try:
            with transaction.atomic():
                return _binding_save(
                    resident=resident, openid=openid, index=index, language=language
                )
        except IntegrityError:
            # Two requests linked at once: the other one's row exists now; update it.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _binding_save(*, resident, openid: str, index: str, language: str) -> WeChatBinding:
    binding = WeChatBinding.objects.select_for_update().filter(openid_index=index).first()
    others = WeChatBinding.objects.filter(resident=resident)
    if binding is not None:
        others = others.exclude(pk=binding.pk)
    for other in others.select_for_update():
        other._change_reason = "replaced by another WeChat"
        other.delete()
    if binding is None:
        binding = WeChatBinding(resident=resident, openid=openid, openid_index=index)
        binding._change_reason = "linked"
    elif binding.resident_id != resident.pk:
        logger.info("WeChat link %s moved to resident %s", binding.pk, resident.pk)
        binding.resident = resident
        binding._change_reason = "moved to another resident"
    else:
        binding._change_reason = "linked again"
    binding.language = language
    binding.save()
    return binding


def binding_remove(*, resident) -> int:
    """Unlink ``resident``'s WeChat; return how many bindings were removed (0 or 1)."""
    removed = 0
    with transaction.atomic():
        for binding in WeChatBinding.objects.select_for_update().filter(resident=resident):
            binding._change_reason = "unlinked"
            binding.delete()
            removed += 1
    return removed


def wechat_links_erase(*, resident) -> int:
    """Delete ``resident``'s WeChat link and its history (anonymisation); return how many."""
    links = WeChatBinding.objects.filter(resident=resident)
    count = 0
    for binding in links:
        binding.skip_history_when_saving = True
        binding.delete()
        count += 1
    WeChatBinding.history.filter(resident_id=resident.pk).delete()
    return count
