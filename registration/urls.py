"""URLs of the registration app."""

app_name = "registration"

urlpatterns: list = []
