"""Built-in integrations, one folder per domain with a ``manifest.json`` and an async ``setup``."""
