"""The tables, one module per aggregate; importing this package registers them all."""

from models.circles import Circle, Facilitation, Meeting, Rsvp, Signup
from models.conversation import Conversation
from models.feedback import Reflection, SurveyResponse
from models.message import Message
from models.operators import Operator, OperatorTeam, SignInLink
from models.people import ConnectCode, Contact, Person
from models.teams import GroupChat, LinkCode, Team, TeamMember

__all__ = [
    "Circle",
    "ConnectCode",
    "Contact",
    "Conversation",
    "Facilitation",
    "GroupChat",
    "LinkCode",
    "Meeting",
    "Message",
    "Operator",
    "OperatorTeam",
    "Person",
    "Reflection",
    "Rsvp",
    "SignInLink",
    "Signup",
    "SurveyResponse",
    "Team",
    "TeamMember",
]
