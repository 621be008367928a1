"""Root URLs. The station URLs printed on billboards (/s/<code>/…) never change meaning."""

from django.contrib import admin
from django.urls import include, path

from config import views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("registration/", include("registration.urls")),
    path("help/", include("inquiries.urls")),
    path("", include("stations.urls")),
]

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
