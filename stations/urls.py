"""Station URLs. ``/s/<code>/…`` is printed on billboards: never change what it means.

``/s/<code>/register/`` and ``/s/<code>/help/`` belong to the registration and inquiries
apps; this app only serves their QR codes (``…/register/qr.svg`` and so on).
"""

from django.urls import path

from stations import views
from stations.constants import QrTarget

app_name = "stations"

urlpatterns = [
    path("", views.home, name="home"),
    path("s/<str:code>/", views.station, name="station"),
    path("s/<str:code>/billboard.pdf", views.billboard_pdf, name="billboard"),
    path("s/<str:code>/poster.png", views.poster_png, name="poster"),
]

for _target, _prefix in (
    (QrTarget.STATION, ""),
    (QrTarget.REGISTER, "register/"),
    (QrTarget.HELP, "help/"),
):
    for _fmt in ("svg", "png"):
        urlpatterns.append(
            path(
                f"s/<str:code>/{_prefix}qr.{_fmt}",
                views.qr_code,
                {"target": _target.value, "fmt": _fmt},
                name=f"qr_{_target.value}_{_fmt}",
            )
        )
