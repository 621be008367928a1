"""URLs of the inquiries app. ``s/<code>/help/`` is printed on billboards."""

from django.urls import path

from inquiries import views

app_name = "inquiries"

urlpatterns = [
    path("s/<str:code>/help/", views.help_request, name="help"),
    # Private links: the token is the only key (only its hash is stored).
    path("h/<str:token>/", views.case, name="case"),
    path("h/<str:token>/photo/", views.case_photo, name="case_photo"),
    path("f/<str:token>/", views.feedback, name="feedback"),
    path("check-in/<str:token>/", views.check_in, name="check_in"),
]
