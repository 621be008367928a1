"""URLs of the registration app. ``s/<code>/register/`` is printed on billboards."""

from django.urls import path

from registration import views

app_name = "registration"

urlpatterns = [
    path("s/<str:code>/register/", views.register, name="register"),
    path("registration/update/", views.update_start, name="update_start"),
]
