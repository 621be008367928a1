"""WeChat's URLs, under ``/wechat/`` (config/urls.py): the callback and the binding pages."""

app_name = "wechat"

urlpatterns: list = []
