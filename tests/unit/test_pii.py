"""Personal fields: AES-GCM per customer, erased by destroying the key."""

from service_runtime.pii import ERASED, PersonalData, SQLiteKeyStore


def test_fields_are_sealed_per_customer_and_erasure_destroys_only_that_key(tmp_path):
    pii = PersonalData(SQLiteKeyStore(tmp_path / "keys.sqlite"))
    alice = pii.encrypt("alice", "Alice Liddell, 7 Rabbit Hole")
    bob = pii.encrypt("bob", "Bob Builder")
    assert "Alice" not in alice and alice.startswith("pii:v1:")
    assert pii.decrypt("alice", alice) == "Alice Liddell, 7 Rabbit Hole"
    assert pii.decrypt("bob", alice) == ERASED  # bound to its customer: another key cannot open it
    assert pii.erase("alice") and not pii.erase("alice")
    assert pii.decrypt("alice", alice) == ERASED
    assert pii.decrypt("bob", bob) == "Bob Builder"
    again = pii.encrypt("alice", "new address")  # a returning customer gets a new key ...
    assert pii.decrypt("alice", again) == "new address"
    assert pii.decrypt("alice", alice) == ERASED  # ... that never opens what was erased


def test_the_destroyed_key_is_not_left_in_the_file(tmp_path):
    store = SQLiteKeyStore(tmp_path / "keys.sqlite")
    key = store.key("alice", create=True)
    store.destroy("alice")
    store.close()
    assert key not in (tmp_path / "keys.sqlite").read_bytes()
