"""Browser tests: the staff console and household panel in real headless Chromium."""
