"""WeChat's URLs, under ``/wechat/`` (config/urls.py): the callback and the binding pages."""

from django.urls import path

from wechat import callbacks, views, views_arrival

app_name = "wechat"

urlpatterns: list = [
    path("callback/", callbacks.callback, name="callback"),
    path("back/<str:token>/", views_arrival.arrival, name="arrival"),
    path("back/<str:token>/photo/<str:kind>/", views_arrival.arrival_photo, name="arrival_photo"),
    # The official account's menu entry "My registration" (register this URL in its menu).
    path("my/", views.my_registration, name="my"),
    # Linking WeChat from the private page, WeChat's return, "Not now", unlinking.
    path("bind/return/", views.bind_return, name="bind_return"),
    # The same offer on the station page, for the resident this session's private page named.
    path("bind/", views.bind_start_offered, name="bind_start_offered"),
    path("bind/later/", views.bind_later_offered, name="bind_later_offered"),
    path("bind/<str:token>/", views.bind_start, name="bind_start"),
    path("bind/<str:token>/later/", views.bind_later, name="bind_later"),
    path("unbind/<str:token>/", views.unbind, name="unbind"),
]
