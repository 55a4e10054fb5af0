"""Inspection photos: staff upload real JPEG/PNG files (checked by their bytes and size), the
inspection and its event name only the content hash, a customer fetches the photos of their own
items only, and their erasure deletes them from the store."""

import hashlib

import pytest

from contracts.orders import CustomerErased
from services.warehouse.photos import MAX_PHOTO_BYTES
from kongfu.demo import sample_photo
from tests.unit.test_warehouse_app import receive, staff, warehouse  # noqa: F401 - the fixtures


def upload(warehouse, staff, code: str, content: bytes, name: str = "qc.png", media_type: str = "image/png"):
    return warehouse.client.post(f"/warehouse/items/{code}/photos", headers=staff,
                                 files={"photo": (name, content, media_type)})


def inspected_with_uploads(warehouse, staff, code: str) -> list[str]:
    refs = []
    for shade in range(3):
        response = upload(warehouse, staff, code, sample_photo(f"shade {shade}"))
        assert response.status_code == 201, response.text
        refs.append(response.json()["photo"])
    inspected = warehouse.client.post(f"/warehouse/items/{code}/inspection", headers=staff, json={
        "quantity_checked": 1, "exterior_condition": "intact", "photos": refs})
    assert inspected.status_code == 200, inspected.text
    return refs


def test_an_upload_is_named_by_its_content_hash_and_the_inspection_carries_only_that(warehouse, staff):
    code = receive(warehouse, staff, "SF1000000001")
    image = sample_photo("one")
    first, again = upload(warehouse, staff, code, image), upload(warehouse, staff, code, image)
    assert first.status_code == again.status_code == 201
    assert first.json()["photo"] == again.json()["photo"] == f"sha256:{hashlib.sha256(image).hexdigest()}"
    assert first.json()["url"] == f"/warehouse/items/{code}/photos/{hashlib.sha256(image).hexdigest()}"
    refs = inspected_with_uploads(warehouse, staff, code)
    item = warehouse.client.get(f"/warehouse/items/{code}", headers=staff).json()
    assert item["inspection"]["photos"] == refs  # the event's photos: hashes, never the bytes


@pytest.mark.parametrize("content, media_type, status", [
    (b"GIF89a" + b"\x00" * 100, "image/jpeg", 415),  # declared JPEG, named .jpg: the bytes decide
    (b"%PDF-1.7 not a photo", "image/png", 415),
    (b"\xff\xd8\xff\xe0" + b"\x00" * MAX_PHOTO_BYTES, "image/jpeg", 413),
])
def test_anything_but_a_jpeg_or_png_within_the_limit_is_refused_with_a_problem(warehouse, staff, content,
                                                                              media_type, status):
    code = receive(warehouse, staff, "SF1000000002")
    response = upload(warehouse, staff, code, content, name="qc.jpg", media_type=media_type)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert "JPEG or PNG" in response.json()["detail"] or "MiB" in response.json()["detail"]
    chinese = warehouse.client.post(f"/warehouse/items/{code}/photos", files={"photo": ("qc.jpg", content, media_type)},
                                    headers={**staff, "Accept-Language": "zh-CN"})
    assert "照片" in chinese.json()["detail"]


def test_only_staff_upload_and_an_inspection_names_only_photos_uploaded_for_that_item(warehouse, staff):
    code, other = receive(warehouse, staff, "SF1000000003"), receive(warehouse, staff, "SF1000000004")
    assert upload(warehouse, warehouse.as_("alice", "customer"), code, sample_photo("one")).status_code == 403
    foreign = upload(warehouse, staff, other, sample_photo("1, 2, 3")).json()["photo"]
    refused = warehouse.client.post(f"/warehouse/items/{code}/inspection", headers=staff, json={
        "quantity_checked": 1, "exterior_condition": "intact", "photos": [foreign, "photo://a/1", "photo://a/2"]})
    assert refused.status_code == 422 and "upload it first" in refused.json()["detail"]


def test_a_customer_fetches_photos_of_their_own_items_only(warehouse, staff):
    code = receive(warehouse, staff, "SF1000000005", customer="alice")
    refs = inspected_with_uploads(warehouse, staff, code)
    digest = refs[0].removeprefix("sha256:")
    mine = warehouse.client.get(f"/warehouse/items/{code}/photos/{digest}", headers=warehouse.as_("alice", "customer"))
    assert mine.status_code == 200 and mine.headers["content-type"] == "image/png"
    assert hashlib.sha256(mine.content).hexdigest() == digest
    theirs = warehouse.client.get(f"/warehouse/items/{code}/photos/{digest}", headers=warehouse.as_("bob", "customer"))
    assert theirs.status_code == 404 and theirs.headers["content-type"] == "application/problem+json"
    unused = upload(warehouse, staff, code, sample_photo("9, 9, 9")).json()["photo"].removeprefix("sha256:")
    assert warehouse.client.get(f"/warehouse/items/{code}/photos/{unused}",
                                headers=warehouse.as_("alice", "customer")).status_code == 404  # not in the inspection
    assert warehouse.client.get(f"/warehouse/items/{code}/photos/{unused}", headers=staff).status_code == 200


def test_erasure_deletes_the_customers_photos_and_a_redelivery_changes_nothing(warehouse, staff):
    code = receive(warehouse, staff, "SF1000000006", customer="alice")
    kept = receive(warehouse, staff, "SF1000000007", customer="bob")
    refs, bobs = inspected_with_uploads(warehouse, staff, code), inspected_with_uploads(warehouse, staff, kept)
    only_hers = upload(warehouse, staff, code, sample_photo("7, 7, 7")).json()["photo"].removeprefix("sha256:")
    assert warehouse.app.photo_store.get(only_hers) is not None
    warehouse.react(CustomerErased(customer_id="alice"))
    warehouse.react(CustomerErased(customer_id="alice"))
    for ref in refs:
        url = f"/warehouse/items/{code}/photos/{ref.removeprefix('sha256:')}"
        assert warehouse.client.get(url, headers=staff).status_code == 404
        assert warehouse.client.get(url, headers=warehouse.as_("alice", "customer")).status_code == 404
    assert warehouse.app.photo_store.get(only_hers) is None  # the bytes are gone, not just hidden
    # Bob's photos have the same bytes as Alice's (the same three shades): still his.
    assert bobs == refs
    for ref in bobs:
        url = f"/warehouse/items/{kept}/photos/{ref.removeprefix('sha256:')}"
        assert warehouse.client.get(url, headers=warehouse.as_("bob", "customer")).status_code == 200


def test_the_file_photo_store_keeps_the_store_contract(tmp_path):
    from service_runtime.blobs import FileBlobStore
    from tests import blob_cases

    blob_cases.stores_reads_files_and_erases_by_owner(FileBlobStore(tmp_path / "photos"))
