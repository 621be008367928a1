"""Root URLs.

The station URLs printed on billboards never change meaning: ``/s/<code>/`` (stations),
``/s/<code>/register/`` (registration) and ``/s/<code>/help/`` (inquiries). Each app's
``urls.py`` declares its own full paths and is included here at the root.
"""

from django.contrib import admin
from django.urls import include, path

from core import health, language_choice

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # First of the apps: the station page and its QR codes are the busiest URLs, and no
    # other app's path can match theirs (``""`` and ``s/<code>/…`` endpoints only).
    path("", include("stations.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("language/<str:code>/", language_choice.language_choose, name="language_choose"),
    # Two-step sign-in (workspace/) under the admin, before the admin's own catch-all.
    path("admin/2fa/", include("workspace.urls")),
    path("admin/", admin.site.urls),
    path("", include("registration.urls")),
    path("", include("inquiries.urls")),
    path("", include("notifications.urls")),
    path("", include("privacy.urls")),
    path("wechat/", include("wechat.urls")),  # namespace "wechat": callback, binding pages
]

handler400 = "core.errors.bad_request"
handler403 = "core.errors.permission_denied"
handler404 = "core.errors.page_not_found"
