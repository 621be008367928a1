"""Development profile: the embedded default with DEBUG on. Used when nothing is set."""

from config.settings.base import *  # noqa: F403
from config.settings.base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
