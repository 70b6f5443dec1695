"""CSV bulk import of posts: announce the file, PUT it to upload_url, start the import, follow its progress."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.core.api import Call, route
from chalicelib.imports.schemas import ImportCreate, ImportUpload, PostImport

if TYPE_CHECKING:
    from chalicelib.wiring import Container

bp = Blueprint(__name__)
TAG = "imports"


@route(bp, "/posts/imports", "POST", summary="Announce a CSV of posts: PUT it to upload_url, then start it",
       tag=TAG, role="editor", body=ImportCreate, response=ImportUpload, status=201)
def create_import(call: Call[Container]) -> dict[str, Any]:
    body: ImportCreate = call.body
    assert call.principal is not None
    return call.deps.imports.create(call.workspace_id, body.filename, body.size, body.mode,
                                    call.principal.key_id)


@route(bp, "/posts/imports/{import_id}/start", "POST", summary="Start importing the uploaded CSV", tag=TAG,
       role="editor", response=PostImport, status=202)
def start_import(call: Call[Container], import_id: str) -> dict[str, Any]:
    from chalicelib.imports.imports import view

    return view(call.deps.imports.start(call.workspace_id, import_id))


@route(bp, "/posts/imports/{import_id}", "GET", summary="An import's progress and its bad rows", tag=TAG,
       response=PostImport)
def get_import(call: Call[Container], import_id: str) -> dict[str, Any]:
    from chalicelib.imports.imports import view

    return view(call.deps.imports.get(call.workspace_id, import_id))
