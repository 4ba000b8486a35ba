"""The API's notifications: the rules (targets masked, secrets never), the delivery log, and a
test message sent to one rule now (what the settings page's "Send a test" does)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from pylapse.notify.deliverylog import Delivery
from web.api_models import errors
from web.deps import RuntimeDep

router = APIRouter(prefix="/api", tags=["api"])


class NotificationRuleOut(BaseModel):
    id: str
    target: str  # the URL with passwords and tokens masked
    kind: str  # webhook or apprise
    events: list[str]
    cooldown: float
    enabled: bool


class DeliveryOut(BaseModel):
    id: int
    rule: str
    event: str
    subject: str
    event_time: datetime
    target: str
    status: str  # pending, delivered or failed
    attempts: int
    detail: str
    test: bool
    updated: datetime


def _out(row: Delivery) -> DeliveryOut:
    return DeliveryOut(
        id=row.id, rule=row.rule, event=row.event, subject=row.subject,
        event_time=row.event_time, target=row.target, status=row.status.value,
        attempts=row.attempts, detail=row.detail, test=row.test, updated=row.updated,
    )  # fmt: skip


@router.get("/notifications", response_model=list[NotificationRuleOut])
def notification_rules(runtime: RuntimeDep) -> list[NotificationRuleOut]:
    """The notification rules in effect, their targets masked (signing secrets are never
    shown)."""
    rules = []
    for rule in runtime.notifier.rules.values():
        rules.append(NotificationRuleOut(
            id=rule.id, target=rule.masked_url, kind=rule.kind.value,
            events=sorted(rule.events), cooldown=rule.cooldown, enabled=rule.enabled,
        ))  # fmt: skip
    return rules


@router.get("/notifications/deliveries", response_model=list[DeliveryOut])
def deliveries(
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    rule: Annotated[str | None, Query(max_length=200)] = None,
) -> list[DeliveryOut]:
    """The newest deliveries first (of one ``rule``, or all): status, tries, what the target
    answered."""
    log = runtime.notifier.log
    return [_out(row) for row in log.recent(limit, rule)] if log is not None else []


@router.post(
    "/notifications/{rule_id}/test",
    response_model=DeliveryOut,
    responses=errors(403, 404, e404="no such notification rule"),
)
async def send_test(rule_id: str, runtime: RuntimeDep) -> DeliveryOut:
    """Send rule ``rule_id`` a test message now (one try, no retries) and say how it went."""
    if rule_id not in runtime.notifier.rules:
        raise HTTPException(404, f"no notification rule {rule_id!r}")
    row = await run_in_threadpool(runtime.notifier.send_test, rule_id)
    if row is None:  # the runtime always has a log; a notifier without one cannot say
        raise HTTPException(404, "this notifier keeps no delivery log")
    return _out(row)
