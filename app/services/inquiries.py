"""Inquiries as conversations (issue 14): a buyer writes a question on an item, the merchandisers answer,
and the thread (one per design and buyer) shows on both sides. A buyer's message counts as interest as
the inquiry button did (the caller sends the `inquiry` event: once per buyer and design, see
`app.services.event_writer`), and what it asks for is read as a want (`app.services.wants`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from generation.language.extract import ProductLanguage

from app.errors import Invalid, NotFound
from app.models import Design, InquiryMessage
from app.services import notices, wants
from app.services.accounts import hidden_character

MAX_TEXT = 1000


@dataclass(frozen=True)
class Thread:
    """An inquiry thread waiting for an answer: its design, buyer and messages, oldest first."""

    design: Design
    buyer_id: int
    messages: list[InquiryMessage]


def check_text(text: str) -> str:
    """`text` stripped, or Invalid: empty, over MAX_TEXT characters, or holding a control, bidi or
    zero-width character other than a line break."""
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise Invalid("write a question first", field="text")
    if len(text) > MAX_TEXT:
        raise Invalid(f"a message has at most {MAX_TEXT} characters", field="text")
    bad = hidden_character(text, allowed="\n")
    if bad is not None:
        raise Invalid(f"a message may not contain control, bidi or zero-width characters (found U+{ord(bad):04X})",
                      field="text")
    return text


def ask(session: Session, *, buyer_id: int, design: Design, text: str, language: ProductLanguage,
        now: datetime) -> InquiryMessage:
    """A buyer's message on `design`; what it names is recorded as a want for the item (wants.record_request)."""
    msg = InquiryMessage(design_id=design.id, buyer_id=buyer_id, from_buyer=True, text=check_text(text), sent_at=now)
    session.add(msg)
    wants.record_request(session, buyer_id=buyer_id, source="inquiry", text=msg.text, language=language,
                         design_id=design.id, design_category=design.category, now=now)
    session.flush()
    return msg


def answer(session: Session, *, design_id: int, buyer_id: int, author_id: int, text: str,
           now: datetime) -> InquiryMessage:
    """A merchandiser's answer in the thread of `design_id` and `buyer_id` (NotFound if the buyer never
    asked); the buyer gets a notice."""
    asked = session.scalar(select(func.count()).select_from(InquiryMessage).where(
        InquiryMessage.design_id == design_id, InquiryMessage.buyer_id == buyer_id, InquiryMessage.from_buyer))
    if not asked:
        raise NotFound(f"no inquiry from buyer {buyer_id} on design {design_id}")
    msg = InquiryMessage(design_id=design_id, buyer_id=buyer_id, author_id=author_id, from_buyer=False,
                         text=check_text(text), sent_at=now)
    session.add(msg)
    notices.tell_buyers(session, [buyer_id], kind="inquiry", design_id=design_id)
    session.flush()
    return msg


def thread(session: Session, design_id: int, buyer_id: int) -> list[InquiryMessage]:
    """The messages between one buyer and the merchandisers about one design, oldest first."""
    return list(session.scalars(select(InquiryMessage).where(
        InquiryMessage.design_id == design_id, InquiryMessage.buyer_id == buyer_id).order_by(InquiryMessage.id)))


def waiting(session: Session, limit: int = 50) -> list[Thread]:
    """Threads whose last message is a buyer's (waiting for an answer), the longest waiting first."""
    last = (select(InquiryMessage.design_id, InquiryMessage.buyer_id, func.max(InquiryMessage.id).label("last"))
            .group_by(InquiryMessage.design_id, InquiryMessage.buyer_id).subquery())
    open_ids = list(session.scalars(select(last.c.last).join(InquiryMessage, InquiryMessage.id == last.c.last)
                                    .where(InquiryMessage.from_buyer).order_by(last.c.last).limit(limit)))
    out = []
    for msg in session.scalars(select(InquiryMessage).where(InquiryMessage.id.in_(open_ids)).order_by(InquiryMessage.id)):
        design = session.get(Design, msg.design_id)
        if design is None:
            raise NotFound(f"design {msg.design_id} not found")
        out.append(Thread(design, msg.buyer_id, thread(session, msg.design_id, msg.buyer_id)))
    return out
