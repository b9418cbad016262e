"""The terminal's side of the backend: signed HTTP client, contract models, outbox delivery.

``reference/`` holds the simulated government platform that serves the same contract.
"""
