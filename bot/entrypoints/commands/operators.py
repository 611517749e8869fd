"""``postsale operators add USER_ID [--admin] [--name N] / remove USER_ID / list``."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from bot.app import open_database
from bot.operators.access import staff_ids
from bot.settings import Settings, telegram_user_id
from storage.roles import Role, add_operator, remove_operator, staff


def user_id(text: str) -> str:
    """argparse's ``type``: our message, not argparse's generic "invalid value"."""
    try:
        return telegram_user_id(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="give a Telegram user id the operator (or admin) role")
    add.add_argument("user_id", type=user_id)
    add.add_argument("--admin", action="store_true", help="an admin (manages operators too)")
    add.add_argument("--name", help="a name to show in lists")
    remove = sub.add_parser("remove", help="take the role away (from the operators table)")
    remove.add_argument("user_id")
    sub.add_parser("list", help="everybody with a role, from settings and the table")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    db = await open_database(settings)
    try:
        async with db.uow() as uow:
            s = uow.session
            ids = staff_ids(settings)
            if args.action == "add":
                role: Role = "admin" if args.admin else "operator"
                new = await add_operator(s, args.user_id, role, args.name, datetime.now(UTC))
                print(f"{'added' if new else 'updated'} {args.user_id} as {role}")
            elif args.action == "remove":
                if not await remove_operator(s, args.user_id):
                    hint = (
                        " (it comes from OPERATOR_IDS/ADMIN_IDS: change the setting)"
                        if args.user_id in ids.operators | ids.admins
                        else ""
                    )
                    print(f"{args.user_id} is not in the operators table{hint}", file=sys.stderr)
                    return 1
                print(f"removed {args.user_id}")
            else:
                members = await staff(s, ids)
                if not members:
                    print("nobody has a role: use `postsale operators add USER_ID`")
                for m in members:
                    print(f"{m.user_id}\t{m.role}\t{m.name or '-'}\t{m.source}")
            await uow.commit()
    finally:
        await db.close()
    return 0
