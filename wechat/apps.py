"""WeChat official account: bindings, the API client and (elsewhere) callbacks and pages."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WeChatConfig(AppConfig):
    name = "wechat"
    verbose_name = _("WeChat")

    def ready(self):
        from wechat import checks  # noqa: F401  (registers the system checks)
