"""Server-rendered pages. Each one parses, asks the policy (cases.access, outreach.access),
calls a service and responds — the same functions the API asks."""
