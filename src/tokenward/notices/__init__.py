"""Email notices: queued in the outbox with the change that causes them, sent in the background."""
