"""Which updates share a transaction on PostgreSQL, and in which order a batch locks.

Every update locks its conversation row first (``storage.marked_chat``: the chat's
``SELECT ... FOR UPDATE``, or ``storage.received.older_one_waiting`` in webhook mode),
and a batch holds every lock it took until its one commit. So a batch handles its
updates sorted by ``(channel, chat_id)``: all batches, of this process and of others
sharing the database, then take conversation locks in one global order, and two of
them cannot wait for each other's conversations.

What else a customer's update writes or locks, after its conversation:

* rows it inserts (``handled_updates``, the transcript, outbox rows, answers,
  tickets): new rows, whose unique keys are the update's or its chat's own;
* rows of its chat's customer: the customer (``set_conversation_customer``, the
  throttle's ``lock_customer`` when linking starts a due survey), their follow-ups
  (an answer), their tickets, their channel identity. These are shared only by
  chats of one customer (linked on two channels, or a second chat being linked);
* on linking by number, the chat whose id is another form of this one's number
  (``storage.links.move_chat``): a chat id no update comes from, which is why it
  moves.

So the order can only break between two chats of one customer in flight at once, or
against transactions that lock conversations in another order (the scheduler's
batches, operator commands). PostgreSQL detects such a deadlock and aborts one side:
an aborted batch is rolled back and each of its updates is handled again alone
(``bot.engine.group_commit``), and the scheduler's survey start is a savepoint it
retries on its next pass. Nothing is lost, only a deadlock timeout is waited.

Staff commands and ``op:`` buttons (``/reply N``, ``/resolve N``) act on customers'
conversations, in whatever order the operator asks: they are never batched but run
alone, as every update does without group commit.

So does every Telegram update in webhook mode (``bot.engine.update_order``): there an
update that finds an older one of its chat waiting raises ``OutOfTurn`` inside its
transaction and retries every few milliseconds. In a batch each of those raises would
roll back its batch-mates, and behind a balancer that delivers a chat's updates to two
processes at once it is the common case, not the exception. Handled alone, as before,
an update out of turn costs nobody else anything. Updates without a sequence (WhatsApp's
message ids) are never out of turn and are batched.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.channels.port import Incoming
from bot.engine.update_order import sequence
from bot.settings import Settings
from flows.events import ButtonIn, CommandIn, Event

Take = Callable[[], list[Incoming]]


def maybe_operator(event: Event) -> bool:
    """An event the operator handler may take: a command, or an ``op:`` button."""
    if isinstance(event, CommandIn):
        return True
    return isinstance(event, ButtonIn) and event.data.startswith("op:")


def lock_order(incoming: Incoming) -> tuple[str, str]:
    return (incoming.channel, incoming.chat_id)


class Batching:
    """The PostgreSQL policy of group commit: who may share a batch, and its order.

    ``ordered``: updates are handled in update-id order across processes (webhook mode).
    """

    def __init__(self, settings: Settings, *, ordered: bool) -> None:
        self.settings = settings
        self.ordered = ordered

    def alone(self, incoming: Incoming) -> bool:
        """True for an update that must have a transaction of its own."""
        if self.ordered and sequence(incoming) is not None:
            return True
        on_staff_channel = incoming.channel == self.settings.operator_channel
        return on_staff_channel and maybe_operator(incoming.event)

    @staticmethod
    def in_lock_order(take: Take) -> Take:
        """``take``, its updates sorted into the global lock order."""
        return lambda: sorted(take(), key=lock_order)
