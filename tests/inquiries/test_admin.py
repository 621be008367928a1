"""The staff side: scoping, assignment, the case form and the cost of the pages."""

import csv
import datetime
import io

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from inquiries.constants import Category, EntryKind, Status
from inquiries.models import Inquiry, InquiryEntry
from inquiries.selectors import inquiries_figures_for_user
from inquiries.services import inquiry_assign, inquiry_reply, inquiry_resident_reply
from stations.constants import GROUP_CITY_ADMIN
from tests.inquiries.factories import ReplyTemplateFactory
from tests.stations.factories import StaffUserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("admin:inquiries_inquiry_changelist")

# The admin list costs these queries whatever the number of rows: session, user, user and
# group permissions, the user's station ids, the station filter's choices with their names
# in the user's language (2), one count, the
# rows (with station and assignee joined), the stations' names, and whether the user manages
# a station (the menu's "Staff sign-in" entry). The resident's page: the case with its
# station, the station's names, the replies.
CASE_LIST_QUERIES = 11
CASE_PAGE_QUERIES = 3


def _change(inquiry):
    return reverse("admin:inquiries_inquiry_change", args=[inquiry.pk])


def _post_change(client, inquiry, **data):
    values = {
        "category": inquiry.category,
        "urgency": inquiry.urgency,
        "assigned_to": inquiry.assigned_to_id or "",
        "entry_kind": "reply",
        "reply_template": "",
        "entry_body": "",
        "new_status": "",
    }
    values.update(data)
    return client.post(_change(inquiry), values)


def test_officers_see_only_their_stations_cases(
    client, submit, officer, other_officer, other_station
):
    mine = submit(subject="Shipai case").inquiry
    theirs = submit(station=other_station, subject="Linhe case").inquiry
    client.force_login(officer)
    page = client.get(LIST).text
    assert mine.reference in page and theirs.reference not in page
    assert client.get(LIST, {"q": theirs.reference}).context["cl"].result_count == 0
    assert client.get(_change(theirs)).status_code == 404
    assert client.get(_change(mine)).status_code == 200
    client.force_login(other_officer)
    assert client.get(LIST, {"q": "Shipai"}).context["cl"].result_count == 0
    assert client.get(_change(mine)).status_code == 404
    assert (
        client.post(reverse("admin:inquiries_inquiry_assign_to_me", args=[mine.pk])).status_code
        == 404
    )
    mine.refresh_from_db()
    assert mine.assigned_to is None


def test_city_administrator_sees_every_station(client, submit, other_station):
    admin = StaffUserFactory(username="city")
    admin.groups.add(Group.objects.get(name=GROUP_CITY_ADMIN))
    a = submit().inquiry
    b = submit(station=other_station).inquiry
    client.force_login(admin)
    page = client.get(LIST).text
    assert a.reference in page and b.reference in page


def _jpeg():
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (0, 0, 255)).save(out, format="JPEG")
    return SimpleUploadedFile("p.jpg", out.getvalue(), content_type="image/jpeg")


def test_photo_is_shown_to_the_station_and_404_to_others(client, station, officer, other_officer):
    response = client.post(
        "/s/shipai/help/",
        {
            "category": "other",
            "subject": "Broken door",
            "description": "See photo",
            "urgency": "low",
            "contact_name": "Li",
            "contact_method": "phone",
            "phone": "13800138000",
            "contact_time": "any",
            "language": "en",
            "photo": _jpeg(),
        },
    )
    assert response.status_code == 302
    inquiry = Inquiry.objects.get()
    url = reverse("admin:inquiries_inquiry_photo", args=[inquiry.pk])
    client.force_login(other_officer)
    assert client.get(url).status_code == 404
    client.force_login(officer)
    photo = client.get(url)
    assert photo.status_code == 200 and photo["Content-Type"] == "image/jpeg"
    assert photo.content.startswith(b"\xff\xd8")
    assert url in client.get(_change(inquiry)).text


def test_overdue_filter(client, submit, officer):
    late = submit(subject="Late one", urgency="urgent").inquiry
    Inquiry.objects.filter(pk=late.pk).update(
        first_response_due=timezone.now() - datetime.timedelta(hours=1)
    )
    fresh = submit(subject="Fresh one").inquiry
    client.force_login(officer)
    overdue = client.get(LIST, {"overdue": "yes"}).text
    assert late.reference in overdue and fresh.reference not in overdue
    on_time = client.get(LIST, {"overdue": "no"}).text
    assert fresh.reference in on_time and late.reference not in on_time


def test_bulk_assign_to_a_member_of_the_station(client, submit, officer, manager):
    cases = [submit().inquiry for _ in range(3)]
    client.force_login(manager)
    ids = [c.pk for c in cases]
    page = client.post(LIST, {"action": "assign_to", "_selected_action": ids})
    assert page.status_code == 200
    assert "officer" in page.text
    done = client.post(
        LIST, {"action": "assign_to", "_selected_action": ids, "apply": "1", "assignee": officer.pk}
    )
    assert done.status_code == 302
    assert set(Inquiry.objects.values_list("assigned_to", "status")) == {
        (officer.pk, Status.ASSIGNED)
    }


def test_bulk_assign_refuses_someone_of_another_station(client, submit, manager, other_officer):
    cases = [submit().inquiry for _ in range(2)]
    client.force_login(manager)
    ids = [c.pk for c in cases]
    response = client.post(
        LIST,
        {
            "action": "assign_to",
            "_selected_action": ids,
            "apply": "1",
            "assignee": other_officer.pk,
        },
    )
    assert response.status_code == 200  # the form again, with its error
    assert not Inquiry.objects.filter(assigned_to__isnull=False).exists()


def test_assign_to_me_action(client, submit, officer):
    cases = [submit().inquiry for _ in range(2)]
    client.force_login(officer)
    response = client.post(
        LIST, {"action": "assign_to_me", "_selected_action": [c.pk for c in cases]}
    )
    assert response.status_code == 302
    assert Inquiry.objects.filter(assigned_to=officer, status=Status.ASSIGNED).count() == 2


def test_case_form_refuses_a_forbidden_transition_with_a_message(client, submit, officer):
    inquiry = submit().inquiry
    client.force_login(officer)
    response = _post_change(client, inquiry, new_status=Status.CLOSED, assigned_to=officer.pk)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["new_status"]
    inquiry.refresh_from_db()
    assert inquiry.status == Status.NEW and inquiry.assigned_to is None


def test_case_form_refuses_assignee_of_another_station(client, submit, officer, other_officer):
    inquiry = submit().inquiry
    client.force_login(officer)
    response = _post_change(client, inquiry, assigned_to=other_officer.pk)
    assert response.status_code == 200
    assert "assigned_to" in response.context["adminform"].form.errors
    inquiry.refresh_from_db()
    assert inquiry.assigned_to is None


def test_reply_template_is_offered_in_the_cases_language_and_sent_when_text_is_empty(
    client, submit, officer, station
):
    ReplyTemplateFactory(language="zh-hans", title="中文模板", body="您好，我们正在处理。")
    template = ReplyTemplateFactory(language="en", title="Looking into it", body="We are on it.")
    inquiry = submit(language="en").inquiry
    inquiry_assign(inquiry=inquiry, assignee=officer)
    client.force_login(officer)
    page = client.get(_change(inquiry)).text
    assert "Looking into it" in page and "中文模板" not in page
    response = _post_change(client, inquiry, reply_template=template.pk, assigned_to=officer.pk)
    assert response.status_code == 302
    entry = InquiryEntry.objects.get(kind=EntryKind.REPLY)
    assert entry.body == "We are on it."


def test_staff_cannot_add_cases_in_admin(client, officer):
    client.force_login(officer)
    assert client.get(reverse("admin:inquiries_inquiry_add")).status_code == 403


@pytest.mark.parametrize("rows", [5, 50])
def test_case_list_costs_the_same_queries_at_any_size(
    client, submit, officer, rows, django_assert_num_queries
):
    for index in range(rows):
        inquiry = submit(subject=f"Case {index}").inquiry
        if index % 2:
            inquiry_assign(inquiry=inquiry, assignee=officer)
    client.force_login(officer)
    client.get(LIST)  # warm the content types and the session
    with django_assert_num_queries(CASE_LIST_QUERIES):
        response = client.get(LIST)
    assert response.status_code == 200
    assert response.context["cl"].result_count == rows


@pytest.mark.parametrize("replies", [5, 50])
def test_resident_case_page_costs_the_same_queries_at_any_size(
    client, submit, officer, replies, django_assert_num_queries
):
    submitted = submit()
    inquiry = submitted.inquiry
    inquiry_assign(inquiry=inquiry, assignee=officer)
    for index in range(replies):
        if index % 2:
            inquiry_resident_reply(inquiry=inquiry, body=f"Resident {index}")
        else:
            inquiry_reply(inquiry=inquiry, body=f"Staff {index}", by=officer)
    url = reverse("inquiries:case", kwargs={"token": submitted.token})
    with django_assert_num_queries(CASE_PAGE_QUERIES):
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["replies"]) == replies


def test_dashboard_figures_are_scoped(submit, officer, other_station, django_assert_num_queries):
    mine = submit().inquiry
    submit()
    submit(station=other_station)
    inquiry_assign(inquiry=mine, assignee=officer)
    with django_assert_num_queries(2):
        figures = inquiries_figures_for_user(officer)
    assert figures == {"new": 1, "unassigned": 1, "overdue": 0, "mine_open": 1}


def test_case_export_is_scoped_filtered_and_leaves_out_contact_details(
    client, officer, station, other_station, submit
):
    mine = submit(category=Category.HEALTHCARE).inquiry
    submit()  # housing, same station
    submit(station=other_station)
    client.force_login(officer)
    response = client.get("/admin/inquiries/inquiry/export.csv", {"category__exact": "healthcare"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row[0] for row in rows[1:]] == [mine.reference]
    assert "amina@example.org" not in ",".join(rows[1])


def test_case_form_saves_classification_assignee_reply_and_status_in_one_go(
    client, submit, officer
):
    inquiry = submit().inquiry
    inquiry_assign(inquiry=inquiry, assignee=officer)
    client.force_login(officer)
    response = _post_change(
        client,
        inquiry,
        urgency="urgent",
        entry_body="We are on it.",
        new_status=Status.IN_PROGRESS,
    )
    assert response.status_code == 302
    inquiry.refresh_from_db()
    assert (inquiry.urgency, inquiry.assigned_to, inquiry.status) == (
        "urgent",
        officer,
        Status.IN_PROGRESS,
    )
    assert inquiry.first_responded_at is not None
    assert list(inquiry.entries.values_list("kind", "body")) == [
        (EntryKind.EVENT, f"status:{Status.NEW}:{Status.ASSIGNED}"),
        (EntryKind.REPLY, "We are on it."),
        (EntryKind.EVENT, f"status:{Status.ASSIGNED}:{Status.IN_PROGRESS}"),
    ]


def test_hand_made_post_replying_to_a_closed_case_without_entry_kind_gets_a_message(
    client, submit, officer
):
    inquiry = submit().inquiry
    Inquiry.objects.filter(pk=inquiry.pk).update(status=Status.CLOSED)
    inquiry.refresh_from_db()
    client.force_login(officer)
    response = _post_change(client, inquiry, entry_kind="", entry_body="Anything new?")
    assert response.status_code == 200  # the form again, not a server error
    errors = response.context["adminform"].form.errors.as_data()
    assert [error.code for error in errors["entry_body"]] == ["case_closed"]
    assert not InquiryEntry.objects.filter(inquiry=inquiry).exists()


def test_replying_in_the_case_form_to_a_new_case_takes_it_and_waits_for_the_resident(
    client, submit, officer
):
    inquiry = submit().inquiry
    client.force_login(officer)
    response = _post_change(client, inquiry, entry_body="Which floor do you live on?")
    assert response.status_code == 302
    inquiry.refresh_from_db()
    assert (inquiry.assigned_to, inquiry.status) == (officer, Status.WAITING)
    assert list(inquiry.entries.values_list("kind", "body")) == [
        (EntryKind.EVENT, f"status:{Status.NEW}:{Status.ASSIGNED}"),
        (EntryKind.REPLY, "Which floor do you live on?"),
        (EntryKind.EVENT, f"status:{Status.ASSIGNED}:{Status.WAITING}"),
    ]
