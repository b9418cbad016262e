"""Local SQLite storage: the outbox (store-and-forward) and the transaction journal."""
