"""Messages: templates (sandboxed Jinja2), their compliance lint, the outbox and the senders."""
