"""Admin actions: a customer's transcript and who has which role."""

from __future__ import annotations

from sqlalchemy import select

from bot.operators import ticket_view as view
from bot.operators.access import staff_ids
from bot.operators.base import Body, OperatorError, ServiceBase
from storage.models import Customer, Message
from storage.roles import Role, add_operator, remove_operator, staff

HISTORY_LINES = 30


class AdminActions(ServiceBase):
    """``/history`` and ``/operators``; each checks the admin role first."""

    async def history(self, user_id: str, customer_ref: str) -> list[Body]:
        await self.allow(user_id, "history")
        ref = customer_ref.strip()
        if not ref:
            raise OperatorError("Whose history? /history CUSTOMER_ID (the store's customer id)")
        customer = await self.session.scalar(select(Customer).where(Customer.external_id == ref))
        if customer is None and ref.startswith("#") and ref[1:].isascii() and ref[1:].isdigit():
            customer = await self.session.get(Customer, int(ref[1:]))
        if customer is None:
            raise OperatorError(f"There is no customer {ref}.")
        rows = list(
            await self.session.scalars(
                select(Message)
                .where(Message.customer_id == customer.id)
                .order_by(Message.at.desc(), Message.id.desc())
                .limit(HISTORY_LINES)
            )
        )[::-1]
        head = f"Transcript of {view.who(customer)}, last {len(rows)} lines:"
        lines = [
            f"{view.when(m.at, self.tz)} {'→' if m.direction == 'in' else '←'} "
            f"{view.clip(m.text, 300) or '[no text]'}"
            for m in rows
        ]
        while lines and len(head) + sum(len(x) + 1 for x in lines) > view.TEXT_MAX:
            lines.pop(0)  # keep the most recent lines
        text = "\n".join([head, *lines]) if lines else f"{head}\n(no messages)"
        return [{"text": text, **view.about(customer)}]

    async def operators(self, user_id: str, args: str) -> list[Body]:
        await self.allow(user_id, "operators")
        words = args.split()
        action = words[0].lower() if words else "list"
        ids = staff_ids(self.settings)
        if action == "list":
            members = await staff(self.session, ids)
            lines = ["Operators and admins:"] + [
                f"{m.user_id} {m.role}{' ' + m.name if m.name else ''} ({m.source})"
                for m in members
            ]
            return [{"text": "\n".join(lines) if members else "Nobody has a role yet."}]
        if action in ("add", "remove") and len(words) >= 2:
            target = words[1]
            if action == "add":
                role: Role = (
                    "admin" if len(words) > 2 and words[2].lower() == "admin" else "operator"
                )
                rest = words[3:] if role == "admin" else words[2:]
                await add_operator(self.session, target, role, " ".join(rest) or None, self.now)
                return [
                    {"text": f"{target} is now {'an admin' if role == 'admin' else 'an operator'}."}
                ]
            if not await remove_operator(self.session, target):
                where = (
                    " (it comes from OPERATOR_IDS/ADMIN_IDS)"
                    if target in ids.operators | ids.admins
                    else ""
                )
                raise OperatorError(f"{target} is not in the operators table{where}.")
            return [{"text": f"{target} was removed."}]
        raise OperatorError(
            "Use /operators list, /operators add USER_ID [admin] [name] "
            "or /operators remove USER_ID."
        )
