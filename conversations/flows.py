"""The registry of flows, explicit and ordered: one line per flow module."""

from conversations import (
    announce,
    connect,
    create_circle,
    edit_reminder,
    forget,
    join,
    language,
    leave,
    reflect,
    report,
    reschedule,
    rsvp,
    surveys,
    team_join,
    who,
)

FLOWS = [
    language.FLOW,
    join.FLOW,
    rsvp.FLOW,
    leave.FLOW,
    team_join.FLOW,
    who.FLOW,
    create_circle.FLOW,
    announce.FLOW,
    edit_reminder.FLOW,
    reschedule.MOVE,
    reschedule.CANCEL,
    reflect.FLOW,
    surveys.LEARNER_SURVEY,
    surveys.FACILITATOR_SURVEY,
    report.FLOW,
    connect.FLOW,
    forget.FLOW,
]
