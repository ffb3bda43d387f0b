"""ARV follow-up (SPEC §5, §6): refills, viral loads, tracing of late clients and each client's
ARV state; their writes (`services`), reminder scans (`reminders`) and API (`api`). The models
are in cases.models.arv."""
