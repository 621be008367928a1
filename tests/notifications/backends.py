"""SMS backends for tests: one that fails as told, one that counts and keeps messages."""

from notifications import sms
from notifications.exceptions import PermanentDeliveryError, TemporaryDeliveryError

# What the next sends do: a list of "ok", "temporary", "permanent" consumed in order;
# when it is empty every send succeeds.
script: list[str] = []


class ScriptedBackend(sms.LocmemBackend):
    """Fail or succeed as ``script`` says, else keep the message in ``sms.outbox``."""

    def send(self, message):
        step = script.pop(0) if script else "ok"
        if step == "temporary":
            raise TemporaryDeliveryError("gateway answered 503")
        if step == "permanent":
            raise PermanentDeliveryError("gateway answered 400: invalid number")
        return super().send(message)


class RefusingEmailBackend:
    """An email backend whose server refuses every recipient."""

    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        import smtplib

        raise smtplib.SMTPRecipientsRefused({m.to[0]: (550, b"no such user") for m in messages})
