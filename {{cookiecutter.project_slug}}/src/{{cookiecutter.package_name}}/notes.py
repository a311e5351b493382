"""An example persisted resource to copy: /api/v1/notes, kept in PostgreSQL.

Create, get, list (paginated) and delete, validated and documented like the
greetings example; the table is made by the migrations (migrations/versions).
"""

from datetime import datetime

from flask import Flask, abort
from flask_smorest import Api
from marshmallow import Schema, fields, validate
from sqlalchemy import DateTime, Identity, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from . import auth, db
from .errors import ErrorSchema
from .openapi import Blueprint

bp = Blueprint("notes", __name__, url_prefix="/api/v1/notes", description="Notes in the database.")
# Every route of this blueprint needs a bearer token (auth.py).
bp.before_request(auth.require_token)

MAX_TEXT = 1000
MAX_PAGE_SIZE = 100
_UNAVAILABLE = "The database is unavailable, busy or not migrated; Retry-After says when to retry"


class Note(db.Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    text: Mapped[str] = mapped_column(String(MAX_TEXT))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class NoteRequest(Schema):
    text = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=MAX_TEXT),
            # PostgreSQL's text cannot hold NUL: a 422 here, not a DataError there.
            validate.Regexp(r"^[^\x00]*$", error="NUL characters cannot be stored."),
        ],
        metadata={"description": "What the note says", "example": "Call Ada"},
    )


class NoteSchema(Schema):
    id = fields.Integer(required=True, metadata={"example": 1})
    text = fields.String(required=True, metadata={"example": "Call Ada"})
    created_at = fields.DateTime(required=True)


class PageQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=2**31 - 1))
    page_size = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))


# The page's facts travel in the body: flask-smorest's X-Pagination header holds JSON,
# which an OpenAPI 3.0 header schema cannot describe (clients read it as key,value pairs).
class NotePage(Schema):
    notes = fields.List(fields.Nested(NoteSchema), required=True)
    page = fields.Integer(required=True, metadata={"example": 1})
    page_size = fields.Integer(required=True, metadata={"example": 20})
    total = fields.Integer(required=True, metadata={"description": "Notes in all pages"})


def _unavailable(view):
    return bp.alt_response(503, schema=ErrorSchema, description=_UNAVAILABLE)(view)


@bp.post("")
@bp.arguments(NoteRequest)
@bp.response(201, NoteSchema)
@bp.alt_response(400, schema=ErrorSchema, description="The body is not valid JSON")
@bp.alt_response(413, schema=ErrorSchema, description="The body is over MAX_JSON_BYTES")
@_unavailable
def create_note(body: dict) -> Note:
    """Keep a new note."""
    with db.transaction() as session:
        note = Note(text=body["text"])
        session.add(note)
        session.flush()  # gives the note its id and created_at
        session.refresh(note)
    return note


@bp.get("")
@bp.arguments(PageQuery, location="query", as_kwargs=True)
@bp.response(200, NotePage)
@_unavailable
def list_notes(page: int, page_size: int) -> dict:
    """List the notes, oldest first, a page at a time."""
    session = db.session()
    total = session.scalar(select(func.count()).select_from(Note))
    first = (page - 1) * page_size
    # Past the end, no second query: any page number stays a 200 with no notes.
    notes = []
    if first < total:
        query = select(Note).order_by(Note.id).offset(first).limit(page_size)
        notes = session.scalars(query).all()
    return {"notes": notes, "page": page, "page_size": page_size, "total": total}


@bp.get("/<int(min=1, max=2147483647):note_id>")
@bp.response(200, NoteSchema)
@bp.alt_response(404, schema=ErrorSchema, description="No note has this id")
@_unavailable
def get_note(note_id: int) -> Note:
    """Read one note."""
    return _found(note_id)


@bp.delete("/<int(min=1, max=2147483647):note_id>")
@bp.response(204)
@bp.alt_response(404, schema=ErrorSchema, description="No note has this id")
@_unavailable
def delete_note(note_id: int) -> None:
    """Delete one note."""
    with db.transaction() as session:
        session.delete(_found(note_id))


def _found(note_id: int) -> Note:
    note = db.session().get(Note, note_id)
    if note is None:
        abort(404, f"no note has id {note_id}")
    return note


def init_app(app: Flask, api: Api) -> None:
    """Serve /api/v1/notes where the app has a database (db.init_app)."""
    if "database" in app.extensions:
        api.register_blueprint(bp)
