"""URLs of the notifications app (none public yet)."""

app_name = "notifications"

urlpatterns: list = []
