"""Station URLs. ``/s/<code>/…`` is printed on billboards: never change what it means."""

from django.urls import path

from stations import views

app_name = "stations"

urlpatterns = [
    path("", views.home, name="home"),
]
