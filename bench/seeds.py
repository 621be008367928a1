"""
The benchmark's data: stations with an officer each, a superuser past the second factor,
phone photos and the photo set of one submission (``bench.datagen`` makes registrations).

The project's modules are imported inside the functions: they run after ``django.setup()``,
which the command (bench/run.py, bench/drill.py) calls once the environment is set.
"""

from __future__ import annotations

from bench.environment import VAR
from bench.photos import phone_photo

STATION = "bench-01"  # the station whose pages are measured


def seed_stations(count: int = 41) -> list:
    """Create ``count`` stations (Guangzhou has 41) with texts and one officer each."""
    from django.contrib.auth import get_user_model

    from stations.constants import MembershipRole
    from stations.services import station_create_or_update, station_membership_set

    districts = ["Tianhe", "Yuexiu", "Haizhu", "Baiyun", "Panyu", "Huangpu"]
    stations = []
    for i in range(1, count + 1):
        code = f"bench-{i:02d}"
        district = districts[i % len(districts)]
        stations.append(
            station_create_or_update(
                code=code,
                district=f"{district} District",
                phone="020-8765-4321",
                wechat_id=f"linli_{code}",
                languages_spoken="中文, English",
                texts={
                    "en": {
                        "name": f"Bench Street {i} Expat Service Station",
                        "address": f"{i} Bench Road, {district} District, Guangzhou",
                        "opening_hours": "Monday–Friday 9:00–17:30\nSaturday 9:00–12:00",
                    },
                    "zh-hans": {
                        "name": f"测试{i}街境外人员服务站",
                        "address": f"广州市{district}区测试路{i}号",
                        "opening_hours": "周一至周五 9:00–17:30\n周六 9:00–12:00",
                    },
                },
            )
        )
        officer, _created = get_user_model().objects.get_or_create(
            username=f"officer-{code}", defaults={"email": f"officer-{code}@example.org"}
        )
        station_membership_set(user=officer, station=stations[-1], role=MembershipRole.OFFICER)
    return stations


def superuser_client():
    """A Django test client logged in as a superuser who passed the second factor."""
    from django.contrib.auth import get_user_model
    from django.test import Client as DjangoClient
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user, _ = get_user_model().objects.get_or_create(
        username="bench-admin",
        defaults={"is_staff": True, "is_superuser": True, "email": "bench@example.org"},
    )
    device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", confirmed=True)
    client = DjangoClient(HTTP_HOST="linli.bench", HTTP_X_FORWARDED_PROTO="https")
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    return client


def phone_photos() -> list[bytes]:
    """Two ~4 MB phone photos, made once and kept in var/bench/photos/."""
    folder = VAR / "photos"
    folder.mkdir(parents=True, exist_ok=True)
    photos = []
    for seed in (1, 2):
        path = folder / f"phone-{seed}.jpg"
        if not path.exists():
            path.write_bytes(phone_photo(seed))
        photos.append(path.read_bytes())
    return photos


def registration_files(big: bool, big_photos: list[bytes], small: bytes):
    """The photos of one submission: two phone photos (``big``) or all small ones."""
    from registration.forms import RegistrationForm

    required = list(RegistrationForm.required_photo_kinds)
    files = []
    for index, kind in enumerate(required):
        content = big_photos[index] if big and index < len(big_photos) else small
        files.append((kind, f"IMG_{4000 + index}.jpg", content))
    if big and len(required) < len(big_photos):  # fewer required kinds: optional ones
        optional = [k for k in RegistrationForm.photo_kinds if k not in required]
        for index, kind in enumerate(optional[: len(big_photos) - len(required)]):
            files.append((kind, f"IMG_{5000 + index}.jpg", big_photos[len(required) + index]))
    return files
