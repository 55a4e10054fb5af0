"""After-sales tickets with a first-answer deadline, escalation by durable timer, ratings."""

from datetime import datetime, timedelta, timezone

import pytest

from service_runtime.clock import ManualClock
from service_runtime.timers import TimerScheduler
from services.claims.bootstrap import bootstrap
from tests.apptest import ServiceHarness

START = datetime(2026, 11, 2, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def desk(tmp_path):
    harness = ServiceHarness(bootstrap, tmp_path)
    harness.clock = harness.app.clock = ManualClock(START)
    harness.scheduler = TimerScheduler(harness.app, harness.parts.timers, harness.clock, service="claims")
    return harness


def open_ticket(desk, urgent=False, subject="alice", **extra):
    body = {"topic": "damage", "urgent": urgent, "subject": "The lid of the teapot is chipped", **extra}
    return desk.client.post("/tickets", json=body, headers=desk.as_(subject, "customer"))


def agent(desk, name="agent-7"):
    return desk.as_(name, "support_agent")


def escalations(desk):
    return [e for e in desk.published() if e.type == "claims.TicketEscalated"]


def test_a_ticket_is_due_in_24_hours_and_an_urgent_one_in_1(desk):
    normal, urgent = open_ticket(desk).json(), open_ticket(desk, urgent=True).json()
    assert datetime.fromisoformat(normal["due_at"]) == START + timedelta(hours=24)
    assert datetime.fromisoformat(urgent["due_at"]) == START + timedelta(hours=1)
    assert desk.client.get("/rules/support").json()["first_answer_hours"] == {"normal": 24, "urgent": 1}


def test_an_unanswered_ticket_is_escalated_once_when_its_deadline_passes(desk):
    ticket = open_ticket(desk).json()
    desk.clock.advance(hours=23, minutes=59)
    assert desk.scheduler.fire_due() == 0
    desk.clock.advance(minutes=2)
    assert desk.scheduler.fire_due() == 1
    assert desk.scheduler.fire_due() == 0
    [escalated] = escalations(desk)
    assert escalated.payload["ticket_id"] == ticket["ticket_id"]
    assert datetime.fromisoformat(escalated.payload["escalated_at"]) == START + timedelta(hours=24, minutes=1)
    late = desk.client.post(f"/tickets/{ticket['ticket_id']}/answers", json={"answer": "Sorry! A refund is on its way."},
                            headers=agent(desk)).json()
    assert late["answers"][0]["within_sla"] is False and late["escalated_at"] is not None


def test_a_ticket_answered_in_time_is_never_escalated(desk):
    ticket = open_ticket(desk, urgent=True).json()
    desk.clock.advance(minutes=40)
    answered = desk.client.post(f"/tickets/{ticket['ticket_id']}/answers", json={"answer": "Looking into it now."},
                                headers=agent(desk))
    assert answered.status_code == 200 and answered.json()["answers"][0]["within_sla"] is True
    desk.clock.advance(days=3)
    assert desk.scheduler.fire_due() == 0 and escalations(desk) == []


def test_tickets_belong_to_their_customer(desk):
    ticket = open_ticket(desk).json()
    assert desk.client.get(f"/tickets/{ticket['ticket_id']}", headers=desk.as_("bob", "customer")).status_code == 404
    own = desk.client.post(f"/tickets/{ticket['ticket_id']}/answers", json={"answer": "x"},
                           headers=desk.as_("alice", "customer"))
    assert own.status_code == 403
    assert open_ticket(desk, order_id="00000000-0000-0000-0000-000000000001").status_code == 404
    assert open_ticket(desk, topic="complaint").status_code == 422


def test_a_closed_ticket_is_rated_once_and_the_rating_is_published(desk):
    ticket = open_ticket(desk).json()
    rating = {"about": "ticket", "subject_id": ticket["ticket_id"], "rating": 5, "comment": "quick and kind"}
    headers = desk.as_("alice", "customer")
    assert desk.client.post("/satisfaction", json=rating, headers=headers).status_code == 409  # still open
    desk.client.post(f"/tickets/{ticket['ticket_id']}/close", headers=headers)
    assert desk.client.post("/satisfaction", json={**rating, "rating": 6}, headers=headers).status_code == 422
    assert desk.client.post("/satisfaction", json=rating, headers=headers).status_code == 201
    assert desk.client.post("/satisfaction", json=rating, headers=headers).status_code == 409
    assert desk.client.post("/satisfaction", json=rating, headers=desk.as_("bob", "customer")).status_code == 404
    [rated] = [e for e in desk.published() if e.type == "claims.SatisfactionRated"]
    assert rated.payload["rating"] == 5 and rated.payload["about"] == "ticket"


def test_a_closed_ticket_offers_a_survey_that_answering_closes_and_staff_see_averages(desk):
    ticket = open_ticket(desk).json()
    alice = desk.as_("alice", "customer")
    desk.client.post(f"/tickets/{ticket['ticket_id']}/answers", json={"answer": "A new lid is on its way."},
                     headers=agent(desk))
    desk.project()
    assert desk.client.get("/me/surveys", headers=alice).json() == []  # nothing offered before it closes
    desk.client.post(f"/tickets/{ticket['ticket_id']}/close", headers=alice)
    desk.client.post(f"/tickets/{ticket['ticket_id']}/close", headers=alice)  # closed twice: offered once
    [offered] = [e.payload for e in desk.published() if e.type == "claims.SurveyOffered"]
    assert (offered["about"], offered["subject_id"], offered["handled_by"]) == ("ticket", ticket["ticket_id"],
                                                                                "agent-7")
    desk.project()
    [open_survey] = desk.client.get("/me/surveys", headers=alice).json()
    assert open_survey["survey_id"] == offered["survey_id"] and "handled_by" not in open_survey
    assert desk.client.get("/me/surveys", headers=desk.as_("bob", "customer")).json() == []

    rating = {"about": "ticket", "subject_id": ticket["ticket_id"], "rating": 4, "comment": "fine"}
    assert desk.client.post("/satisfaction", json=rating, headers=alice).status_code == 201
    assert desk.client.post("/satisfaction", json=rating, headers=alice).status_code == 409  # answered once
    [rated] = [e.payload for e in desk.published() if e.type == "claims.SatisfactionRated"]
    assert rated["survey_id"] == offered["survey_id"]
    desk.project()
    assert desk.client.get("/me/surveys", headers=alice).json() == []
    assert desk.client.get("/satisfaction/summary", headers=alice).status_code == 403
    summary = desk.client.get("/satisfaction/summary", headers=desk.as_("audit-1", "auditor")).json()
    assert (summary["offered"], summary["answered"], summary["average"]) == (1, 1, "4.00")
    assert summary["by_agent"] == {"agent-7": {"answered": 1, "average": "4.00"}}
    assert summary["by_about"]["ticket"]["answered"] == 1
