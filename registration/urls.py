"""URLs of the registration app. ``s/<code>/register/`` is printed on billboards."""

from django.urls import path

from registration import views, views_documents, views_mrz

app_name = "registration"

urlpatterns = [
    path("s/<str:code>/register/", views.register, name="register"),
    path("registration/update/", views.update_start, name="update_start"),
    path("registration/receipt/", views.receipt, name="receipt"),
    path("registration/lost-link/", views.lost_link, name="lost_link"),
    path("registration/lost-link/sent/", views.lost_link_sent, name="lost_link_sent"),
    path(
        "registration/passport/<str:code>/",
        views_mrz.passport_reading,
        name="passport_reading",
    ),
    path(
        "registration/photo/<uuid:public_id>/",
        views_documents.attempt_photo,
        name="attempt_photo",
    ),
    path(
        "registration/documents/<uuid:public_id>/",
        views_documents.staff_document,
        name="staff_document",
    ),
    path("registration/r/<str:token>/", views.private, name="private"),
    path("registration/r/<str:token>/move/", views.update_move, name="update_move"),
    path("registration/r/<str:token>/back/", views.update_reentry, name="update_reentry"),
    path("registration/r/<str:token>/stay/", views.update_stay, name="update_stay"),
    path("registration/r/<str:token>/visa/", views.update_visa, name="update_visa"),
    path("registration/r/<str:token>/document/", views.update_document, name="update_document"),
    path("registration/r/<str:token>/contact/", views.update_contact, name="update_contact"),
    path("registration/r/<str:token>/left/", views.update_left, name="update_left"),
    path("registration/r/<str:token>/correct/", views.update_correct, name="update_correct"),
    path("registration/r/<str:token>/my-data.json", views.my_data, name="my_data"),
    path("registration/r/<str:token>/delete/", views.delete_request, name="delete_request"),
    path(
        "registration/r/<str:token>/photo/<uuid:public_id>/",
        views_documents.private_photo,
        name="private_photo",
    ),
]
