"""Admin actions: a customer's transcript and who has which role."""

from __future__ import annotations

from sqlalchemy import select

from bot.i18n import ngettext, translate
from bot.operators import ticket_view as view
from bot.operators.access import staff_ids
from bot.operators.base import Body, OperatorError, ServiceBase
from flows.replies import N_
from storage.models import Customer, Message
from storage.roles import Role, add_operator, remove_operator, staff

HISTORY_LINES = 30
NOT_LISTED = N_("{who} is not in the operators table.")
FROM_SETTINGS = N_("{who} is not in the operators table (it comes from OPERATOR_IDS/ADMIN_IDS).")


class AdminActions(ServiceBase):
    """``/history`` and ``/operators``; each checks the admin role first."""

    async def history(self, user_id: str, customer_ref: str) -> list[Body]:
        await self.allow(user_id, "history")
        ref = customer_ref.strip()
        if not ref:
            raise OperatorError(
                translate(
                    "Whose history? /history CUSTOMER_ID (the store's customer id)", self.lang
                )
            )
        customer = await self.session.scalar(select(Customer).where(Customer.external_id == ref))
        if customer is None and ref.startswith("#") and ref[1:].isascii() and ref[1:].isdigit():
            customer = await self.session.get(Customer, int(ref[1:]))
        if customer is None:
            raise OperatorError(translate("There is no customer {ref}.", self.lang, ref=ref))
        rows = list(
            await self.session.scalars(
                select(Message)
                .where(Message.customer_id == customer.id)
                .order_by(Message.at.desc(), Message.id.desc())
                .limit(HISTORY_LINES)
            )
        )[::-1]
        lang, no_text = self.lang, translate("[no text]", self.lang)
        lines = [
            f"{view.when(m.at, self.tz)} {'→' if m.direction == 'in' else '←'} "
            f"{view.clip(m.text, 300) or no_text}"
            for m in rows
        ]
        head = ngettext(
            "Transcript of {who}, last {n} line:",
            "Transcript of {who}, last {n} lines:",
            len(rows),
            lang,
            who=view.who(customer, lang),
        )
        while lines and len(head) + sum(len(x) + 1 for x in lines) > view.TEXT_MAX:
            lines.pop(0)  # keep the most recent lines
        text = (
            "\n".join([head, *lines]) if lines else f"{head}\n" + translate("(no messages)", lang)
        )
        return [Body(text, customer_ref=view.about(customer))]

    async def operators(self, user_id: str, args: str) -> list[Body]:
        await self.allow(user_id, "operators")
        words = args.split()
        action = words[0].lower() if words else "list"
        ids = staff_ids(self.settings)
        if action == "list":
            members = await staff(self.session, ids)
            if not members:
                return [Body(translate("Nobody has a role yet.", self.lang))]
            lines = [translate("Operators and admins:", self.lang)] + [
                f"{m.user_id} {m.role}{' ' + m.name if m.name else ''} ({m.source})"
                for m in members
            ]
            return [Body("\n".join(lines))]
        if action in ("add", "remove") and len(words) >= 2:
            target = words[1]
            if action == "add":
                role: Role = (
                    "admin" if len(words) > 2 and words[2].lower() == "admin" else "operator"
                )
                rest = words[3:] if role == "admin" else words[2:]
                await add_operator(self.session, target, role, " ".join(rest) or None, self.now)
                now_is = (
                    N_("{who} is now an admin.")
                    if role == "admin"
                    else N_("{who} is now an operator.")
                )
                return [Body(translate(now_is, self.lang, who=target))]
            if not await remove_operator(self.session, target):
                absent = FROM_SETTINGS if target in ids.operators | ids.admins else NOT_LISTED
                raise OperatorError(translate(absent, self.lang, who=target))
            return [Body(translate("{who} was removed.", self.lang, who=target))]
        raise OperatorError(
            translate(
                "Use /operators list, /operators add USER_ID [admin] [name] "
                "or /operators remove USER_ID.",
                self.lang,
            )
        )
