"""The intake packet: documents a caseworker attaches to a referral (custody order, medical
consent, ICPC 100A approval...) against the checklist each home's profile declares.

Files are PDF, JPEG or PNG by their content (magic bytes), never by their name, and at
most 10 MB; anything else is refused and nothing is stored. They are sealed with AES-GCM
(`placement.sealing`) in the database. The referring agency's caseworkers may download
them; a home's operators only once that home accepted the youth (like the street
address); nobody else. Every upload and download is audited.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from .. import audit, sealing
from ..models import DOCUMENT_MAX_BYTES, DOCUMENT_TYPES, INTAKE_DOCUMENT_KINDS, Home, IntakeDocument, Placement, PlacementRequest, Referral, User
from ..timeutil import utcnow
from .errors import ServiceError

NOTHING_STORED = "Nothing was stored."
MAGIC = ((b"%PDF-", "application/pdf"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"))


def sniff(data: bytes) -> str | None:
    """The document type by content: PDF, PNG or JPEG, else None (an executable renamed .pdf is None)."""
    for magic, content_type in MAGIC:
        if data.startswith(magic):
            return content_type
    return None


def _context(document: IntakeDocument) -> str:
    return f"intake_document:{document.referral_id}:{document.kind}"


def upload(session: Session, user: User, referral: Referral, kind: str, data: bytes, expires_on: date | None) -> IntakeDocument:
    """Seal and store one document; refused with a clear message (and nothing stored) when bad."""
    if kind not in INTAKE_DOCUMENT_KINDS:
        raise ServiceError("Choose what the document is from the list.", {"kind": "unknown kind"})
    if not data:
        raise ServiceError(f"The file is empty. {NOTHING_STORED}", {"file": "empty file"})
    if len(data) > DOCUMENT_MAX_BYTES:
        raise ServiceError(f"The file is larger than 10 MB. {NOTHING_STORED}", {"file": "larger than 10 MB"})
    content_type = sniff(data)
    if content_type is None:
        raise ServiceError(f"Only PDF, JPEG and PNG files can be attached, and this file is none of them "
                           f"(checked by its content, not its name). {NOTHING_STORED}", {"file": "not a PDF, JPEG or PNG"})
    try:
        document = IntakeDocument(referral_id=referral.id, kind=kind, content_type=content_type, size_bytes=len(data),
                                  expires_on=expires_on, key_id="", nonce=b"", ciphertext=b"", uploaded_by_id=user.id)
        sealed = sealing.seal(data, _context(document))
    except sealing.KeysMissing as error:
        raise ServiceError(f"Document storage is not configured on this server. {NOTHING_STORED}") from error
    document.key_id, document.nonce, document.ciphertext = sealed.key_id, sealed.nonce, sealed.ciphertext
    session.add(document)
    session.flush()
    audit.record(session, "document_uploaded", "intake_document", document.id,
                 f"referral {referral.id} {kind} {content_type} {len(data)} bytes", actor=user)
    session.commit()
    return document


def for_referral(session: Session, referral: Referral) -> list[IntakeDocument]:
    return list(session.exec(
        select(IntakeDocument).where(IntakeDocument.referral_id == referral.id).order_by(IntakeDocument.id.desc())
    ).all())


def expired(document: IntakeDocument, today: date | None = None) -> bool:
    return document.expires_on is not None and document.expires_on < (today or utcnow().date())


@dataclass(frozen=True)
class Checklist:
    home: Home
    wanted: list[str]  # kinds the home's profile asks for
    missing: list[str]  # of those, kinds with no unexpired document on the referral


def checklists(session: Session, referral: Referral, packet: list[IntakeDocument] | None = None) -> list[Checklist]:
    """For each home the referral is requested at or placed with: what it asks for and what is
    missing from the packet (`packet`: the referral's documents, when already read)."""
    home_ids = set(session.exec(select(PlacementRequest.home_id).where(
        PlacementRequest.referral_id == referral.id, PlacementRequest.status.in_(("pending", "accepted")))).all())
    have = {d.kind for d in (for_referral(session, referral) if packet is None else packet) if not expired(d)}
    result = []
    for home in sorted((session.get(Home, i) for i in home_ids), key=lambda h: h.name):
        wanted = [k for k in INTAKE_DOCUMENT_KINDS if k in (home.intake_documents or [])]
        result.append(Checklist(home, wanted, [k for k in wanted if k not in have]))
    return result


def released_to_operator(session: Session, user: User, referral: Referral) -> list[IntakeDocument]:
    """The packet as the operator may see it: all of it once their home accepted, else nothing."""
    placed = session.exec(
        select(Placement.id).join(Home, Home.id == Placement.home_id)
        .where(Placement.referral_id == referral.id, Home.provider_id == user.organisation_id)
    ).first()
    return for_referral(session, referral) if placed is not None else []


def download(session: Session, user: User, document: IntakeDocument) -> tuple[bytes, str, str]:
    """(bytes, content type, download name); the caller got `document` through access.get_intake_document."""
    try:
        data = sealing.open_sealed(sealing.Sealed(document.key_id, document.nonce, document.ciphertext), _context(document))
    except (sealing.CannotOpen, sealing.KeysMissing) as error:
        audit.record(session, "document_unreadable", "intake_document", document.id, str(error)[:200], actor=user)
        session.commit()
        raise ServiceError("This document cannot be opened with the keys this server has.") from error
    audit.record(session, "document_downloaded", "intake_document", document.id, f"referral {document.referral_id}", actor=user)
    session.commit()
    return data, document.content_type, f"{document.kind}-{document.id}.{DOCUMENT_TYPES[document.content_type]}"
