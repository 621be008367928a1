"""
The official account's menu (自定义菜单), set through WeChat's API by ``manage.py wechat_menu``.

WeChat shows one menu, with one label per button, to every follower whatever language they
read: the labels are Chinese and English side by side, the two a foreign resident in China
and the station's staff are most likely to share (as on the billboard). They must fit
WeChat's sizes, counted in UTF-8 bytes: a top-level button at most 16 (four Chinese
characters), a sub-button at most 60. "我的登记 My registration" is 28 bytes: too long for
the bar itself, so it is the one entry of a top-level button named after Linli ("邻里
Linli", 12 bytes). Both can be changed (``--label``, ``--parent``), within those sizes.
"""

from django.conf import settings
from django.urls import reverse

MY_REGISTRATION_LABEL = "我的登记 My registration"
PARENT_LABEL = "邻里 Linli"
BUTTON_NAME_MAX_BYTES = 16
SUB_BUTTON_NAME_MAX_BYTES = 60
URL_MAX_BYTES = 1024


def my_registration_url() -> str:
    """The menu entry's address: ``/wechat/my/`` on ``SITE_URL`` (never a request's Host)."""
    return settings.SITE_URL + reverse("wechat:my")


def menu_build(*, label: str = MY_REGISTRATION_LABEL, parent: str = PARENT_LABEL) -> dict:
    """
    Return the menu, as WeChat's menu API takes it: a ``view`` button opening "My
    registration"; under a top-level button ``parent``, or in the bar itself when
    ``parent`` is empty.
    """
    entry = {"type": "view", "name": label, "url": my_registration_url()}
    if not parent:
        return {"button": [entry]}
    return {"button": [{"name": parent, "sub_button": [entry]}]}


def menu_problems(menu: dict) -> list[str]:
    """Return what WeChat would refuse in ``menu`` (its sizes), before asking WeChat."""
    problems = []

    def check(button: dict, limit: int) -> None:
        size = len(button.get("name", "").encode("utf-8"))
        if not 0 < size <= limit:
            problems.append(f"{button.get('name')!r} is {size} bytes; WeChat takes 1 to {limit}")
        if "url" in button and len(button["url"].encode("utf-8")) > URL_MAX_BYTES:
            problems.append(f"the address is longer than {URL_MAX_BYTES} bytes")

    for button in menu.get("button", []):
        check(button, BUTTON_NAME_MAX_BYTES)
        for sub in button.get("sub_button", []):
            check(sub, SUB_BUTTON_NAME_MAX_BYTES)
    return problems
