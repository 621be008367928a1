"""URLs of the inquiries app. ``s/<code>/help/`` is printed on billboards."""

from django.urls import path

from inquiries import views

app_name = "inquiries"

urlpatterns = [
    path("s/<str:code>/help/", views.help_request, name="help"),
]
