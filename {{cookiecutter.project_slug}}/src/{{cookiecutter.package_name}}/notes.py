"""An example persisted resource to copy: /api/v1/notes, kept in PostgreSQL.

Create, get, list (paginated) and delete, validated and documented like the
greetings example; the table is made by the migrations (migrations/versions).
"""

from datetime import datetime

from flask import Flask, abort
from flask_smorest import Api, Page
from marshmallow import Schema, fields, validate
from sqlalchemy import DateTime, Identity, String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from . import auth, db
from .errors import ErrorSchema
from .openapi import Blueprint

bp = Blueprint("notes", __name__, url_prefix="/api/v1/notes", description="Notes, kept in the database.")
# Every route of this blueprint needs a bearer token (auth.py).
bp.before_request(auth.require_token)

MAX_TEXT = 1000
_UNAVAILABLE = "The database is unavailable, busy or not migrated; Retry-After says when to retry"


class Note(db.Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    text: Mapped[str] = mapped_column(String(MAX_TEXT))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class NoteRequest(Schema):
    text = fields.String(
        required=True,
        validate=validate.Length(min=1, max=MAX_TEXT),
        metadata={"description": "What the note says", "example": "Call Ada"},
    )


class NoteSchema(Schema):
    id = fields.Integer(required=True, metadata={"example": 1})
    text = fields.String(required=True, metadata={"example": "Call Ada"})
    created_at = fields.DateTime(required=True)


class SQLPage(Page):
    """flask-smorest's pagination over a SELECT: one LIMIT/OFFSET query and one COUNT."""

    @property
    def items(self):
        query = self.collection.order_by(Note.id)
        query = query.offset(self.page_params.first).limit(self.page_params.page_size)
        return db.session().scalars(query).all()

    @property
    def item_count(self):
        counted = select(func.count()).select_from(self.collection.subquery())
        return db.session().scalar(counted)


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
@bp.response(200, NoteSchema(many=True))
@bp.paginate(SQLPage, max_page_size=100)
@_unavailable
def list_notes():
    """List the notes, oldest first, a page at a time (X-Pagination says where you are)."""
    return select(Note)


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
