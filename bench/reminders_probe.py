"""Placeholder: replaced once registration/reminders.py has landed."""

import json

print(json.dumps({}))
