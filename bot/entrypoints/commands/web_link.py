"""``postsale web-link USER_ID``: a one-time sign-in link to the web admin.

For the first admin, before anybody can send ``/web`` in the chat; the user must
already be an operator or admin (``ADMIN_IDS``, ``OPERATOR_IDS`` or the operators table).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime

from bot.app import open_database
from bot.entrypoints.commands.operators import user_id
from bot.operators.access import staff_ids
from bot.operators.web_link import sign_in_url
from bot.settings import Settings
from storage.roles import role_of
from storage.web_links import create_link


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("user_id", type=user_id, help="the operator's or admin's user id")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if not settings.web_secret:
        print("postsale web-link: the web admin is off: set WEB_SECRET first", file=sys.stderr)
        return 2
    db = await open_database(settings)
    try:
        async with db.uow() as uow:
            if await role_of(uow.session, staff_ids(settings), args.user_id) is None:
                print(
                    f"postsale web-link: {args.user_id} is neither an operator nor an admin"
                    " (ADMIN_IDS, OPERATOR_IDS or postsale operators add)",
                    file=sys.stderr,
                )
                return 1
            token = await create_link(uow.session, args.user_id, datetime.now(UTC))
            await uow.commit()
    finally:
        await db.close()
    print(sign_in_url(settings, token))
    return 0
