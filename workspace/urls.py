"""Two-step sign-in pages, included by the root URLs under ``/admin/2fa/``."""

from django.urls import path

from workspace import views

app_name = "workspace"

urlpatterns = [
    path("", views.verify, name="twofactor"),
    path("enrol/", views.enrol, name="twofactor_enrol"),
    path("logout/", views.logout, name="twofactor_logout"),
]
