"""The Rasa server's parts the clinic replaces, by the names Rasa 3.6 builds them from.

Rasa offers no public hook for these, so each is a patch of a module attribute, made once at start by
`clinic-rasa` (clinic/hardening/launcher.py) before Rasa builds anything:

- `use_message_processor(cls)`: the agent builds its processor from `rasa.core.agent.MessageProcessor`
  when it loads the model.
- `use_tracker_store_wrapper(cls)`: the agent wraps its tracker store in
  `rasa.core.agent.FailSafeTrackerStore`.
- `on_server_app(callback)`: `rasa run` builds its Sanic app with `rasa.core.run.configure_app`;
  `callback(app)` runs on it before the server starts (Sanic middleware, config).

`agent_of(app)` is the agent Rasa's server keeps in `app.ctx.agent` (None before the model is loaded).
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Type

from sanic import Sanic


def use_message_processor(cls: Type[Any]) -> None:
    """Make Rasa's agent build its message processor from `cls` (a MessageProcessor subclass)."""
    import rasa.core.agent

    rasa.core.agent.MessageProcessor = cls  # type: ignore[misc]


def use_tracker_store_wrapper(cls: Type[Any]) -> None:
    """Make Rasa's agent wrap its tracker store in `cls` (a FailSafeTrackerStore subclass)."""
    import rasa.core.agent

    rasa.core.agent.FailSafeTrackerStore = cls  # type: ignore[misc]


def on_server_app(callback: Callable[[Sanic], None]) -> None:
    """Run `callback(app)` on the Sanic app `rasa run` builds, before it serves anything."""
    import rasa.core.run

    configure_app = rasa.core.run.configure_app

    def configure_app_then_callback(*args: Any, **kwargs: Any) -> Sanic:
        app = configure_app(*args, **kwargs)
        callback(app)
        return app

    rasa.core.run.configure_app = configure_app_then_callback


def agent_of(app: Sanic) -> Optional[Any]:
    """The Rasa agent of the server's app (`rasa.core.agent.Agent`), or None if it has none yet."""
    return getattr(app.ctx, "agent", None)
