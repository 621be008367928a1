"""The staff workspace: the admin's own pages (two-step sign-in, later the dashboard and audit)."""
