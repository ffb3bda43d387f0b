"""Security of the installation: sign-in lockout (django-axes), sessions, headers and the second
factor (middleware), API tokens (django-rest-knox), field encryption at rest, and encrypted
backups."""
