"""An organizer's commands, by direct message or in the team's linked group: codes to share,
the week ahead, circles, facilitators, feedback and the digest on demand."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlmodel import select

from bot.channels import texting_number
from bot.channels.base import SMS, TELEGRAM, WHATSAPP
from bot.config import get_settings
from bot.context import Context
from bot.i18n import t
from bot.pages import split
from handlers import find, team_view
from handlers.team_facts import gather
from models.teams import ORGANIZER, Team, TeamMember, create_link_code

SMS_PAGE_SEGMENTS = 2
PHONE_NUMBER = re.compile(r"\+\d{6,15}")  # E.164

View = Callable[..., list[str]]


def organized(ctx: Context) -> list[Team]:
    """The teams this person organizes."""
    return list(
        ctx.session.exec(
            select(Team)
            .join(TeamMember, TeamMember.team_id == Team.id)
            .where(TeamMember.person_id == ctx.person.id, TeamMember.role == ORGANIZER)
            .order_by(Team.name)
        ).all()
    )


def show(ctx: Context, teams: list[Team], view: View) -> None:
    """Send one team view (week, circles, facilitators, feedback) of each team, paged."""
    facts = gather(ctx.session, [team.id for team in teams], ctx.now)
    lines = []
    for team in teams:
        lines += view(facts[team.id], team, ctx.now, ctx.language)
    for page in split(lines, ctx.contact.channel, sms_segments=SMS_PAGE_SEGMENTS):
        ctx.send(page)


def send_digest(ctx: Context, teams: list[Team]) -> None:
    """The digest now, as the weekly one would read (it does not count as the weekly one)."""
    facts = gather(ctx.session, [team.id for team in teams], ctx.now)
    channel = ctx.group.channel if ctx.group else ctx.contact.channel
    for team in teams:
        for body, media in team_view.digest_pages(
            facts[team.id], team, ctx.now, ctx.language, channel
        ):
            ctx.send(body, media=media)


def invite_text(
    team: Team, language: str, channel: str | None = None, phone: str | None = None
) -> str:
    """The facilitator invite code with a line to share that names where to send it: the bot's
    address on `channel` when we have one there, else on the first channel we have."""
    addresses = bot_addresses(phone)
    where = addresses.get(channel) or next(iter(addresses.values()), None)
    if where is None:  # forwarded, "send it to me" would name nobody
        return t("organizer.invite_plain", language, team=team.name, code=team.invite_code)
    return t("organizer.invite", language, team=team.name, code=team.invite_code, where=where)


def bot_addresses(phone: str | None = None) -> dict[str, str]:
    """Where people can write to the bot, by channel: its phone numbers (by SMS, the one a
    person at `phone` texts: in Kenya the shortcode) and Telegram link."""
    settings = get_settings()
    whatsapp = settings.twilio_whatsapp_from.removeprefix("whatsapp:")
    # A Messaging Service SID (MG…) sends for a pool of numbers: it is no number to text.
    found = {WHATSAPP: whatsapp} if PHONE_NUMBER.fullmatch(whatsapp) else {}
    if number := texting_number(settings, phone):
        found = {SMS: number} | found
    if settings.telegram_bot_username:
        found[TELEGRAM] = f"t.me/{settings.telegram_bot_username.lstrip('@')}"
    return found


def _for_teams(action: Callable[[Context, list[Team]], None]) -> Callable[[Context, str], None]:
    """A direct-message command run for the teams the person organizes."""

    def run(ctx: Context, rest: str) -> None:
        teams = organized(ctx)
        if not teams:
            ctx.say("auth.not_allowed")
            return
        action(ctx, teams)

    return run


def _invite(ctx: Context, teams: list[Team]) -> None:
    for team in teams:
        phone = ctx.contact.address if ctx.contact.channel in (SMS, WHATSAPP) else None
        ctx.send(invite_text(team, ctx.language, ctx.contact.channel, phone))


def _link(ctx: Context, teams: list[Team]) -> None:
    for team in teams:
        code = create_link_code(ctx.session, team.id, ctx.now).code
        ctx.say("organizer.link", team=team.name, code=code)


invite = _for_teams(_invite)
link_code = _for_teams(_link)
digest = _for_teams(send_digest)
week = _for_teams(lambda ctx, teams: show(ctx, teams, team_view.week_view))
facilitators = _for_teams(lambda ctx, teams: show(ctx, teams, team_view.facilitators))
feedback = _for_teams(lambda ctx, teams: show(ctx, teams, team_view.feedback))


def circles(ctx: Context, rest: str) -> None:
    """CIRCLES: an organizer sees their team's circles; anyone else, the circles open to join."""
    teams = organized(ctx) if ctx.roles.organizer else []
    if teams:
        show(ctx, teams, team_view.circles)
    else:
        find.list_circles(ctx, rest)
