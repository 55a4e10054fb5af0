"""The photo routes: staff upload an item's inspection photos (multipart), customers fetch those of
their own items (another customer's item is a 404, like a missing one)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Path, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from service_runtime.auth import WAREHOUSE_STAFF, Caller
from service_runtime.http import current_caller, require_roles
from service_runtime.problems import PROBLEM
from services.warehouse import photos
from services.warehouse.app import WarehouseApplication
from services.warehouse.codes import CODE_PATTERN

Code = Annotated[str, Path(pattern=CODE_PATTERN, examples=["KF0123456789AX"])]
Digest = Annotated[str, Path(pattern=photos.DIGEST_PATTERN, description="the photo's sha256, hex")]
PROBLEM_BODY = {"content": {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


class StoredPhoto(BaseModel):
    photo: str  # sha256:<hex>, what the inspection names
    url: str


def router(app: WarehouseApplication) -> APIRouter:
    api = APIRouter(prefix="/warehouse/items", tags=["warehouse"])

    @api.post("/{code}/photos", response_model=StoredPhoto, status_code=201,
              responses={413: {"description": "larger than the limit", **PROBLEM_BODY},
                         415: {"description": "not a JPEG or PNG", **PROBLEM_BODY}})
    def upload_photo(code: Code, photo: UploadFile = File(description="a JPEG or PNG, at most 5 MiB"),
                     _: Caller = Depends(require_roles(WAREHOUSE_STAFF))):
        """Keep an inspection photo of the item; name the returned `photo` in the inspection."""
        content = photo.file.read(photos.MAX_PHOTO_BYTES + 1)  # one byte more tells "too large"
        reference = app.upload_photo(code, content)
        return StoredPhoto(photo=reference, url=photos.url_for(code, reference) or "")

    @api.get("/{code}/photos/{digest}", response_class=Response,
             responses={200: {"content": {"image/jpeg": {}, "image/png": {}}, "description": "the photo"}})
    def get_photo(code: Code, digest: Digest, caller: Caller = Depends(current_caller)):
        """An inspection photo of one of my items (staff: of any item)."""
        blob = app.photo_for(caller, code, digest)
        return Response(blob.content, media_type=blob.media_type,
                        headers={"Cache-Control": "private, no-cache", "ETag": f'"{digest}"'})

    return api
