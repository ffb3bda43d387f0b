"""The notification outbox (SPEC §6): every reminder is a row first, inserted set-based by the
scans apps register (`engine`), then delivered after commit by a task, once, through its channel
(`delivery`: in-app with an e-mail copy, or SMS through a gateway, `sms`); the user's inbox is
its API (`api`)."""

from .engine import (
    insert_notifications,
    insert_select,
    register_renderer,
    register_scan,
    render,
    run_all,
)

__all__ = [
    "insert_notifications",
    "insert_select",
    "register_renderer",
    "register_scan",
    "render",
    "run_all",
]
