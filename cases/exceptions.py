class Conflict(Exception):
    """The request is valid but clashes with the current state: a stale version, an illegal
    transition, a task someone else holds. Answered as 409."""
