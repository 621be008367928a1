"""Errors of message delivery: temporary ones are retried, permanent ones fail at once."""


class DeliveryError(Exception):
    """Delivering a message failed; ``permanent`` says whether trying again can help."""

    permanent = False


class TemporaryDeliveryError(DeliveryError):
    """The channel is unavailable for now (timeout, server error): try again later."""

    permanent = False


class PermanentDeliveryError(DeliveryError):
    """The message can never be delivered as it is (invalid address, rejected content)."""

    permanent = True
