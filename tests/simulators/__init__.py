"""Device and service stand-ins that speak the documented wire formats, for tests, benchmarks
and the demo (Frigate NVR: :mod:`.frigate`)."""
