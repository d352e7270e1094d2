"""Idempotency keys for unsafe requests: a retried request gets the first response and changes nothing.

A client that is not sure its request arrived (a timeout, a dropped connection) sends it again with
the same `Idempotency-Key` header. The first successful response is stored with the key, per user,
in the same transaction as the work it describes, so either both are committed or neither is:
- same key, same request (method, path and body): the stored response, with its status code;
- same key, different request: 422, and nothing happens;
- same key while the first request is still running: the second waits for the first's row lock, then
  answers 409 (retry to read the stored response). Failed requests store nothing and may be retried.

Routers use it as:

```python
claim = idempotency.claim(session, user, key, request, body)
if isinstance(claim, JSONResponse):
    return claim                      # a replay
out = ...do the work...
return claim.done(201, out)
```
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict, Invalid
from app.models import IdempotencyRecord, User, utcnow

HEADER = "Idempotency-Key"
IdempotencyKey = Annotated[str | None, Header(alias=HEADER, min_length=1, max_length=200,
                                              description="retrying with the same key returns the first response")]


def fingerprint(request: Request, body: BaseModel | dict[str, Any] | None) -> str:
    """SHA-256 of the method, the path and the body (as canonical JSON): what "the same request" means."""
    data = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    text = json.dumps([request.method, request.url.path, data], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Claim:
    """A key reserved for this request: `done` stores the response that retries will get."""

    record: IdempotencyRecord | None

    def done(self, status_code: int, out: BaseModel) -> JSONResponse:
        body = out.model_dump(mode="json")
        if self.record is not None:
            self.record.status_code, self.record.response = status_code, body
        return JSONResponse(body, status_code=status_code)


def claim(session: Session, user: User, key: str | None, request: Request,
          body: BaseModel | dict[str, Any] | None) -> Claim | JSONResponse:
    """Reserve `key` for this request, or return the stored response of the request that used it first."""
    if key is None:
        return Claim(None)
    fp = fingerprint(request, body)
    earlier = session.get(IdempotencyRecord, (user.id, key))
    if earlier is None:
        record = IdempotencyRecord(user_id=user.id, key=key, fingerprint=fp, status_code=0, response={},
                                   created_at=utcnow())
        session.add(record)
        try:
            session.flush()  # the row lock that makes a concurrent retry wait for this request
        except IntegrityError:
            raise Conflict("a request with this idempotency key is still being processed; retry to read its response") from None
        return Claim(record)
    if earlier.fingerprint != fp:
        raise Invalid("this idempotency key was already used for a different request", field=HEADER)
    return JSONResponse(earlier.response, status_code=earlier.status_code, headers={"Idempotent-Replayed": "true"})
