"""WeChat's URLs, under ``/wechat/`` (config/urls.py): the callback and the binding pages."""

from django.urls import path

from wechat import callbacks, views_arrival

app_name = "wechat"

urlpatterns: list = [
    path("callback/", callbacks.callback, name="callback"),
    path("back/<str:token>/", views_arrival.arrival, name="arrival"),
    path("back/<str:token>/photo/<str:kind>/", views_arrival.arrival_photo, name="arrival_photo"),
]
