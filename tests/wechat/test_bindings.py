"""Binding a resident's WeChat: stored encrypted, found by its blind index, moved, removed."""

import pytest
from django.db import connection

from tests.registration.factories import ResidentFactory
from wechat.models import WeChatBinding
from wechat.selectors import binding_for_openid, openid_for_resident
from wechat.services import binding_create, binding_remove

OPENID = "oAbCdEfGhIjKlMnOpQrStUvWx123"
pytestmark = pytest.mark.django_db


def test_bind_find_and_remove():
    resident = ResidentFactory()
    binding = binding_create(resident=resident, openid=OPENID, language="ko")
    assert binding_for_openid(OPENID).resident == resident
    assert binding_for_openid(OPENID.lower()) is None  # openids are case-sensitive
    assert openid_for_resident(resident) == OPENID
    with connection.cursor() as cursor:
        cursor.execute("SELECT openid, openid_index FROM wechat_wechatbinding")
        stored, index = cursor.fetchone()
    assert OPENID not in stored and OPENID not in index
    assert OPENID not in str(binding)
    assert binding_remove(resident=resident) == 1
    assert binding_for_openid(OPENID) is None
    assert openid_for_resident(resident) is None
    assert binding_remove(resident=resident) == 0


def test_rebinding_moves_the_openid_and_keeps_history_without_it():
    first, second = ResidentFactory(), ResidentFactory()
    binding_create(resident=first, openid=OPENID, language="en")
    binding_create(resident=second, openid=OPENID, language="fr")
    assert WeChatBinding.objects.count() == 1
    assert binding_for_openid(OPENID).resident == second
    assert openid_for_resident(first) is None
    binding_create(resident=second, openid="oOtherOpenid0000000000000001", language="fr")
    assert binding_for_openid(OPENID) is None  # a resident has one WeChat
    reasons = list(WeChatBinding.history.values_list("history_change_reason", flat=True))
    assert "moved to another resident" in reasons and "replaced by another WeChat" in reasons
    assert not hasattr(WeChatBinding.history.model, "openid")


def test_anonymising_the_resident_erases_the_link_and_its_history():
    from registration.constants import RegistrationStatus
    from registration.services.erasure import registration_anonymise
    from tests.registration.factories import RegistrationFactory

    registration = RegistrationFactory(status=RegistrationStatus.ENDED)
    binding_create(resident=registration.resident, openid=OPENID, language="en")
    registration_anonymise(registration=registration)
    assert binding_for_openid(OPENID) is None
    assert not WeChatBinding.history.filter(resident_id=registration.resident_id).exists()


@pytest.mark.parametrize(
    "openid",
    [
        OPENID,
        "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
        "oAbCdEfGhIjKlMnOpQrStUvWxYz_",
        "oabc-DEF_ghiJKLmnoPQRstuVWXy",
    ],
)
def test_openids_are_redacted_from_log_lines(openid):
    """Even one without a digit (about 1 in 100), which the random-token rule misses."""
    from core.logs import redact_secrets

    line = f"message from {openid} (FromUserName={openid}) <FromUserName><![CDATA[{openid}]]>"
    assert openid not in redact_secrets(line)
    assert "message from" in redact_secrets(line)


def test_the_residents_copy_of_their_data_has_no_openid():
    import json

    from registration.selectors import resident_data_export
    from tests.registration.factories import RegistrationFactory

    registration = RegistrationFactory()
    binding_create(resident=registration.resident, openid=OPENID, language="en")
    exported = json.dumps(resident_data_export(registration=registration), default=str)
    assert OPENID not in exported
