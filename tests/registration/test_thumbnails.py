"""
Thumbnails are made once, when a photo is stored, encrypted like it; the resident's pages
get them (never a photo downsized per request), staff get the photo itself.
"""

import base64
import io

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from registration import services
from registration.documents import THUMBNAIL_SIDE, document_file_read
from registration.models import Document
from tests.registration.factories import (
    form_data,
    jpeg_bytes,
    photo_upload,
    photos,
    registration_with_token,
)

pytestmark = pytest.mark.django_db


def _stored_files() -> set[str]:
    found = set()
    folders = ["registration"]
    while folders:
        folder = folders.pop()
        subfolders, files = (
            default_storage.listdir(folder) if default_storage.exists(folder) else ([], [])
        )
        folders += [f"{folder}/{name}" for name in subfolders]
        found |= {f"{folder}/{name}" for name in files}
    return found


def test_photo_is_stored_with_one_encrypted_thumbnail_at_the_shown_size(station):
    before = _stored_files()
    _raw, attempt = services.attempt_start(station=station)
    document = services.attempt_photo_add(
        attempt=attempt, kind="passport_page", uploaded_file=photo_upload(data=jpeg_bytes())
    )
    assert _stored_files() - before == {document.file.name, document.thumbnail.name}
    with default_storage.open(document.thumbnail.name, "rb") as handle:
        assert not handle.read().startswith(b"\xff\xd8")  # encrypted at rest
    thumbnail = Image.open(io.BytesIO(document_file_read(name=document.thumbnail.name)))
    assert thumbnail.format == "JPEG" and thumbnail.size == (THUMBNAIL_SIDE, 192)
    assert not thumbnail.getexif()


def test_review_thumbnails_are_the_stored_ones_and_make_no_file(
    client, station, django_assert_num_queries
):
    register_url = reverse("registration:register", args=[station.code])
    review = client.post(register_url, {**form_data(), **photos()})
    assert review.status_code == 200
    documents = list(Document.objects.filter(attempt__isnull=False))
    assert len(documents) == 3
    files = _stored_files()
    for document in documents:
        # In the review page itself, the stored bytes: no request per photo.
        inline = base64.b64encode(document_file_read(name=document.thumbnail.name)).decode()
        assert f'src="data:image/jpeg;base64,{inline}"' in review.text
        # Linked where a page shows them again (a form with errors): the same bytes.
        url = reverse("registration:attempt_photo", args=[document.public_id])
        assert url not in review.text
        with django_assert_num_queries(3):  # session, the attempt, the document
            response = client.get(url)
        assert response.status_code == 200
        # The bytes stored when the photo came in: nothing decoded or resized per request.
        assert response.content == document_file_read(name=document.thumbnail.name)
        assert max(Image.open(io.BytesIO(response.content)).size) <= THUMBNAIL_SIDE
        assert response["Cache-Control"] == "private, max-age=900"
        assert response["X-Content-Type-Options"] == "nosniff"
        again = client.get(url, HTTP_IF_NONE_MATCH=response["ETag"])
        assert again.status_code == 304 and not again.content
    assert _stored_files() == files


def test_another_browser_gets_no_thumbnail_even_with_its_etag(client, station):
    _raw, attempt = services.attempt_start(station=station)
    document = services.attempt_photo_add(
        attempt=attempt, kind="visa_page", uploaded_file=photo_upload()
    )
    url = reverse("registration:attempt_photo", args=[document.public_id])
    assert client.get(url, HTTP_IF_NONE_MATCH=f'"t-{document.public_id.hex}"').status_code == 404


def test_private_link_shows_thumbnails_and_staff_the_photo(client, station, officer):
    registration, token = registration_with_token(station=station)
    _raw, attempt = services.attempt_start(station=station)
    document = services.attempt_photo_add(
        attempt=attempt, kind="passport_page", uploaded_file=photo_upload(data=jpeg_bytes())
    )
    Document.objects.filter(pk=document.pk).update(registration=registration, attempt=None)
    own = client.get(reverse("registration:private_photo", args=[token, document.public_id]))
    assert own.status_code == 200
    assert own.content == document_file_read(name=document.thumbnail.name)
    assert "max-age=900" in own["Cache-Control"]
    client.force_login(officer)
    staff = client.get(reverse("registration:staff_document", args=[document.public_id]))
    assert staff.status_code == 200
    assert staff.content == document_file_read(name=document.file.name)  # full photo
    assert Image.open(io.BytesIO(staff.content)).size == (800, 600)
    assert "no-store" in staff["Cache-Control"]


def test_photo_without_a_thumbnail_is_shown_from_the_photo(client, station):
    registration, token = registration_with_token(station=station)
    _raw, attempt = services.attempt_start(station=station)
    document = services.attempt_photo_add(
        attempt=attempt, kind="lease", uploaded_file=photo_upload()
    )
    # A photo stored before thumbnails existed.
    Document.objects.filter(pk=document.pk).update(
        registration=registration, attempt=None, thumbnail=""
    )
    response = client.get(reverse("registration:private_photo", args=[token, document.public_id]))
    assert response.status_code == 200
    assert response.content == document_file_read(name=document.file.name)


def test_thumbnail_goes_with_the_last_row_of_its_photo(station, django_capture_on_commit_callbacks):
    _raw, attempt = services.attempt_start(station=station)
    document = services.attempt_photo_add(
        attempt=attempt, kind="lease", uploaded_file=photo_upload()
    )
    names = {document.file.name, document.thumbnail.name}
    carried = Document.objects.create(
        attempt=attempt, kind="lease", file=document.file.name, thumbnail=document.thumbnail.name
    )
    with django_capture_on_commit_callbacks(execute=True):
        document.delete()
    assert names <= _stored_files()  # still used by the carried row
    with django_capture_on_commit_callbacks(execute=True):
        carried.delete()
    assert not names & _stored_files()


def test_review_links_a_thumbnail_whose_file_cannot_be_read(client, station):
    register_url = reverse("registration:register", args=[station.code])
    assert client.post(register_url, {**form_data(), **photos()}).status_code == 200
    lost = Document.objects.filter(attempt__isnull=False).first()
    default_storage.delete(lost.thumbnail.name)
    again = client.post(register_url, {**form_data(), "step": "review"})
    assert again.status_code == 200 and 'value="submit"' in again.text
    assert reverse("registration:attempt_photo", args=[lost.public_id]) in again.text
    assert again.text.count('src="data:image/jpeg;base64,') == 2  # the others still inline
