"""In-portal notifications, and the seam for other channels (e-mail, SMS).

`notify()` always stores the portal message; each function in `CHANNELS` is
then called with the same message. An e-mail or SMS adapter is a function
appended there at start-up; it must never receive case details, only the
message and link (which name no child).
"""
from __future__ import annotations

from typing import Callable

from sqlmodel import Session, func, select

from ..models import Notification, User
from ..timeutil import utcnow

Channel = Callable[[User, str, str], None]
CHANNELS: list[Channel] = []


def notify(session: Session, users: list[User], message: str, link: str = "") -> None:
    for user in users:
        session.add(Notification(user_id=user.id, message=message[:300], link=link))
        for channel in CHANNELS:
            channel(user, message, link)


def unread_count(session: Session, user: User) -> int:
    return session.exec(
        select(func.count(Notification.id)).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    ).one()


def recent(session: Session, user: User, limit: int = 50) -> list[Notification]:
    return list(
        session.exec(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id.desc()).limit(limit)
        ).all()
    )


def mark_all_read(session: Session, user: User) -> None:
    for note in session.exec(
        select(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    ).all():
        note.read_at = utcnow()
        session.add(note)
    session.commit()


def organisation_users(session: Session, organisation_id: int, role: str) -> list[User]:
    return list(
        session.exec(
            select(User).where(User.organisation_id == organisation_id, User.role == role, User.is_active.is_(True))
        ).all()
    )
