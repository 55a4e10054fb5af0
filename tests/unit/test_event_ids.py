from uuid import uuid4

from service_runtime.publishing import event_id_for


def test_event_id_is_stable_for_one_producer_and_distinct_across_producers():
    parcel_id = uuid4()  # a warehouse parcel and its logistics shipment share this id
    assert event_id_for("warehouse", parcel_id, 2) == event_id_for("warehouse", parcel_id, 2)
    assert event_id_for("warehouse", parcel_id, 2) != event_id_for("logistics", parcel_id, 2)
    assert event_id_for("warehouse", parcel_id, 2) != event_id_for("warehouse", parcel_id, 3)
