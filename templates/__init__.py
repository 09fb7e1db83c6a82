"""The shipped message templates, installed as collect_cli.templates (data, no code)."""
