"""Shouwang core: the hub, event bus, state machine, services, entities, config and loader.

Everything else (integrations, automations, the API) builds on the names this package exports.
"""

__version__ = "0.1.0"
