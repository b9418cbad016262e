"""The terminal gateway (前置服务): between a county's terminals and the government platform.

Terminals call it over HTTPS with signed requests (``kiosk.backend.signing``); it checks the
signature, the clock, the nonce and the idempotency key against its database, passes resident
matters to the province's platform through an adapter (``adapter.Platform``), keeps what
terminals deliver (ratings, transactions, device events, heartbeats) and serves the fleet
console for technicians and supervisors (``console/``).

    app.py       the FastAPI application: the terminal API under /v1, the console under /console
    api.py       the terminal API's routes (the contract, kiosk/backend/openapi.yaml, is their document)
    adapter.py   what the gateway needs from a province's platform (a typing.Protocol)
    guard.py     the ASGI layer in front: size, depth and number limits, signatures, nonces
    server.py    uvicorn with bounded connections and request deadlines; bind rules
    schema.py    the tables and their version; store.py: the database (SQLAlchemy 2: SQLite by
                 default, PostgreSQL in production), nonces, idempotency, what terminals sent
    fleet.py     heartbeats, terminal state and history, remote commands
    ratings.py   好差评 figures, the 差评 list and its follow-up; workdays.py: the 15 working days
    accounts.py  console accounts, sessions, lock-out and the audit trail
    console/     the console's pages (Jinja2 templates) and their routes
"""
