"""Database queries per inbound message, per tick and per digest, with 1× and 100× the data.

Statements are counted with a `before_cursor_execute` listener on the bot's engine while one
piece of work runs in this process: the signed webhook, `jobs.handle_inbound.run` (HELP from a
newcomer, HELP and a stray "hello" from a learner), `jobs.send_message.run` for the reply, and
`jobs.tick.run()`. DESIGN target: the counts do not change as the data grows 100× (ratio 1.0).

    .venv/bin/python -m bench.queries [--scale 100] [--show-sql]
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import event, insert

from bench import harness
from tests.support.fake_twilio import FakeTwilio

_numbers = itertools.count(1)


@dataclass
class Tally:
    """The statements one piece of work sent, and how long it took (for a hint, not a target)."""

    statements: list[str] = field(default_factory=list)
    seconds: float = 0.0


@contextmanager
def counting() -> Iterator[Tally]:
    """Collect every statement the engine sends while the block runs."""
    from bot.db import get_engine

    tally = Tally()

    def record(_conn, _cursor, statement, *_args) -> None:
        tally.statements.append(" ".join(statement.split()))

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", record)
    began = time.perf_counter()
    try:
        yield tally
    finally:
        tally.seconds = time.perf_counter() - began
        event.remove(engine, "before_cursor_execute", record)


def grow(units: int, first: int) -> None:
    """Add `units` teams' worth of data: people, circles, signups, history and due work.

    One unit is a team with an organizer, two circles of ten learners with a facilitator each,
    six meetings per circle, dialogs (active, expired, done), six messages per learner, and the
    work a tick finds due: queued and retry sends, a stuck send and an unhandled inbound.
    """
    from bot.clock import now
    from bot.db import session_scope
    from models.circles import Circle, Facilitation, Meeting, Signup
    from models.conversation import Conversation
    from models.message import HANDLED, IN, OUT, QUEUED, RECEIVED, RETRY, SENDING, SENT, Message
    from models.people import Contact, Person
    from models.teams import FACILITATOR, ORGANIZER, GroupChat, Team, TeamMember

    at = now()
    past = at - timedelta(hours=1)

    def person(session, number: int) -> Contact:
        someone = Person(name=f"Person {number}", language="en")
        session.add(someone)
        session.flush()
        contact = Contact(person_id=someone.id, channel="sms", address=f"+1666{number:07d}")
        session.add(contact)
        session.flush()
        return contact

    for unit in range(first, first + units):
        messages: list[dict] = []
        with session_scope() as session:
            team = Team(
                name=f"Team {unit}", slug=f"team-{unit}", timezone="Africa/Nairobi",
                invite_code=f"I{unit:06d}",
            )  # fmt: skip
            session.add(team)
            session.flush()
            organizer = person(session, next(_numbers))
            session.add(TeamMember(team_id=team.id, person_id=organizer.person_id, role=ORGANIZER))
            session.add(GroupChat(channel="telegram", chat_id=f"-100{unit:09d}", team_id=team.id))
            learners: list[Contact] = []
            for c in range(2):
                facilitator = person(session, next(_numbers))
                session.add(
                    TeamMember(team_id=team.id, person_id=facilitator.person_id, role=FACILITATOR)
                )
                circle = Circle(
                    team_id=team.id, name=f"Circle {unit}.{c}", course="Python", venue="Library",
                    city="Nakuru", timezone="Africa/Nairobi", weekday=1,
                    start_time=at.time().replace(microsecond=0), first_date=at.date(),
                    join_code=f"J{unit:05d}{c}", status="running",
                )  # fmt: skip
                session.add(circle)
                session.flush()
                session.add(Facilitation(circle_id=circle.id, person_id=facilitator.person_id))
                for week in range(6):
                    starts = at + timedelta(days=7 * week - 14)
                    session.add(
                        Meeting(
                            circle_id=circle.id, number=week + 1, starts_at=starts,
                            ends_at=starts + timedelta(minutes=90),
                        )
                    )  # fmt: skip
                for _ in range(10):
                    learner = person(session, next(_numbers))
                    session.add(
                        Signup(circle_id=circle.id, person_id=learner.person_id,
                               contact_id=learner.id)
                    )  # fmt: skip
                    learners.append(learner)
            for index, learner in enumerate(learners):
                for k in range(3):
                    common = {"channel": "sms", "contact_id": learner.id, "created_at": past}
                    messages.append(
                        common | {"direction": IN, "body": "YES", "status": HANDLED,
                                  "provider_id": f"SMgrow{unit}x{index}x{k}", "handled_at": past}
                    )  # fmt: skip
                    messages.append(
                        common | {"direction": OUT, "body": "Thanks!", "status": SENT,
                                  "provider_id": f"SMsent{unit}x{index}x{k}", "sent_at": past}
                    )  # fmt: skip
                # Two dialogs waiting for an answer, one expired, five finished.
                dialogs = [("active", at + timedelta(hours=5))] * 2 + [("active", past)]
                dialogs += [("done", past)] * 5
                if index < len(dialogs):
                    status, expires = dialogs[index]
                    session.add(
                        Conversation(contact_id=learner.id, flow="language", step="language",
                                     status=status, expires_at=expires)
                    )  # fmt: skip
            due = {"channel": "sms", "direction": OUT, "body": "Due", "created_at": past}
            messages += [
                due | {"contact_id": learners[10].id, "status": QUEUED},
                due | {"contact_id": learners[11].id, "status": QUEUED},
                due | {"contact_id": learners[12].id, "status": RETRY, "attempts": 1,
                       "next_attempt_at": past},
                due | {"contact_id": learners[13].id, "status": SENDING, "attempts": 1,
                       "claimed_at": past},
                {"channel": "sms", "direction": IN, "body": "hello", "created_at": past,
                 "contact_id": learners[14].id, "status": RECEIVED,
                 "provider_id": f"SMwait{unit}"},
            ]  # fmt: skip
            rows = [{"attempts": 0, "media": [], "purpose": "reply"} | row for row in messages]
            session.execute(insert(Message), rows)


def measure(client) -> dict[str, Tally]:
    """Run each piece of work once and return the statements it sent."""
    from sqlalchemy import update
    from sqlmodel import select

    from bot import queue
    from bot.clock import now
    from bot.db import session_scope
    from bot.identity import find_contact
    from jobs import digest, handle_inbound, send_message, tick
    from models.circles import Signup
    from models.message import OUT, QUEUED, Message
    from models.people import Contact
    from models.teams import Team

    counts: dict[str, Tally] = {}

    def post(label: str, number: str, text: str) -> int:
        sid = f"SMq{next(_numbers):031d}"
        form = harness.sms_form(sid, number, text)
        with counting() as tally:
            response = client.post(
                "/webhooks/twilio", data=form, headers=harness.signed_twilio(form)
            )
        assert response.status_code == 200, response.data
        counts[f"webhook {label}"] = tally
        with session_scope() as session:
            return find_contact(session, "sms", number).id

    def handle(label: str, contact_id: int) -> None:
        with counting() as tally:
            handle_inbound.run(contact_id)
        counts[label] = tally

    newcomer = f"+1777{next(_numbers):07d}"
    handle("handle HELP (newcomer)", post("HELP (newcomer)", newcomer, "HELP"))
    with session_scope() as session:
        learner = session.exec(
            select(Contact.address)
            .join(Signup, Signup.contact_id == Contact.id)
            .order_by(Contact.id.desc())
        ).first()
    handle("handle HELP (learner)", post("HELP (learner)", learner, "HELP"))
    handle("handle 'hello' (learner)", post("'hello' (learner)", learner, "hello"))
    with session_scope() as session:
        reply_id = session.exec(
            select(Message.id)
            .where(Message.direction == OUT, Message.status == QUEUED)
            .order_by(Message.id.desc())
        ).first()
    with counting() as tally:
        send_message.run(reply_id)
    counts["send the reply"] = tally
    # The retention sweep's hourly part runs at the first tick of an hour: both sizes count it.
    for key in queue.connection().scan_iter("circlebot:retention:*"):
        queue.connection().delete(key)
    with counting() as tally:
        tick.run()
    counts["tick"] = tally
    # Every team's digest due at once: one sweep builds them all.
    with session_scope() as session:
        session.execute(update(Team).values(digest_due_at=now() - timedelta(minutes=1)))
    with counting() as tally, session_scope() as session:
        digest.sweep(session, now(), Counter())
    counts["weekly digests (all teams)"] = tally
    return counts


def main(argv: list[str] | None = None) -> int:
    """Count the statements with 1× and N× the data and print them side by side."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=100, help="how many times more data")
    parser.add_argument("--units", type=int, default=1, help="teams' worth of data at 1×")
    parser.add_argument("--show-sql", action="store_true", help="print the statements")
    parser.add_argument("--report", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    harness.stop_on_sigterm()

    with harness.Instance() as instance, FakeTwilio() as fake:
        instance.use(twilio_api_base_url=fake.url)
        instance.wipe()
        from app import create_app

        client = create_app().test_client()
        harness.quiet_logs()
        grow(args.units, first=0)
        small = measure(client)
        grow(args.units * (args.scale - 1), first=args.units)
        large = measure(client)
        sizes = _sizes()

    print(
        f"database statements per piece of work, with {args.units} vs "
        f"{args.units * args.scale} teams' worth of data ({sizes})"
    )
    rows, constant = [], True
    for label, few in small.items():
        many = large.get(label, Tally())
        count, more = len(few.statements), len(many.statements)
        ratio = more / count if count else float("nan")
        constant &= count == more
        times = f"{few.seconds * 1000:.1f} / {many.seconds * 1000:.1f}"
        rows.append([label, count, more, f"{ratio:.2f}", times])
    print(harness.table(["work", "1×", f"{args.scale}×", "ratio", "ms 1× / N×"], rows))
    print(f"target: ratio 1.0 everywhere → {'meets' if constant else 'MISSES'}")
    print("(times are hints: 1× includes first-use warm-up, the N× tick has N× the due work)")
    if args.show_sql:
        for label, tally in large.items():
            print(f"\n-- {label} ({args.scale}×)")
            print("\n".join(tally.statements))
            if len(tally.statements) != len(small[label].statements):
                print(f"\n-- {label} (1×)")
                print("\n".join(small[label].statements))
    harness.write_report(
        args.report,
        "queries",
        [
            {
                "measure": f"queries: {label}",
                "figure": f"{small_count} → {large_count}",
                "target": "1.0×",
                "verdict": "meets" if small_count == large_count else "MISSES",
            }
            for label, small_count, large_count, _, _ in rows
        ],
    )
    return 0


def _sizes() -> str:
    from sqlalchemy import func
    from sqlmodel import select

    from bot.db import session_scope
    from models.message import Message
    from models.people import Contact

    with session_scope() as session:
        messages = session.exec(select(func.count()).select_from(Message)).one()
        contacts = session.exec(select(func.count()).select_from(Contact)).one()
    return f"now {contacts} contacts, {messages} messages"


if __name__ == "__main__":
    raise SystemExit(main())
