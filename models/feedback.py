"""What facilitators and learners tell us: meeting reflections and end-of-circle surveys."""

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.columns import instant


class Reflection(SQLModel, table=True):
    """A facilitator's plus/delta on one meeting."""

    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    rating: int | None = None
    attendance: int | None = None
    went_well: str | None = Field(default=None, max_length=500)
    to_change: str | None = Field(default=None, max_length=500)
    recap_sent_at: datetime | None = instant()
    created_at: datetime = instant(default_now=True)


LEARNER, FACILITATOR = "learner", "facilitator"


class SurveyResponse(SQLModel, table=True):
    """A learner's or facilitator's answers after the last meeting; the row exists from the
    moment they are asked, and each answer is saved as it comes."""

    __table_args__ = (UniqueConstraint("circle_id", "person_id", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    circle_id: int = Field(foreign_key="circle.id", index=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    role: str = Field(max_length=16)
    # A learner's answers: how far they got towards their goal (1-5), and three free texts.
    goal_met: int | None = None
    worked_well: str | None = Field(default=None, max_length=500)
    improve: str | None = Field(default=None, max_length=500)
    next_steps: str | None = Field(default=None, max_length=500)
    # A facilitator's answers.
    rating: int | None = None
    surprised: str | None = Field(default=None, max_length=500)
    advice: str | None = Field(default=None, max_length=500)
    run_again: bool | None = None
    created_at: datetime = instant(default_now=True)
    completed_at: datetime | None = instant()
