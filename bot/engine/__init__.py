"""The engine: the inbound pipeline and the outbound messenger, applying flow outcomes.

``Pipeline`` handles incoming updates (per-chat order, group commit, one flow step in
one transaction); ``Messenger`` starts flow steps towards a customer for the scheduler
and the operators; both apply an outcome through ``outcome.apply_outcome`` and the
effect registry (``effects.HANDLERS``). Built and linked by ``bot.bootstrap``; it
imports neither the operators nor the scheduler.
"""

from bot.engine.effects import HANDLERS, EffectRunner
from bot.engine.messenger import Messenger
from bot.engine.pipeline import GROUP_LIMIT, Pipeline, utcnow

__all__ = ["GROUP_LIMIT", "HANDLERS", "EffectRunner", "Messenger", "Pipeline", "utcnow"]
