"""Traceability codes: derived, stable, and a typo is always refused, never another item."""

import itertools

import pytest

from service_runtime.errors import DomainError
from service_runtime.tracing import stable_id
from services.warehouse.codes import ALPHABET, CODE_LENGTH, check_character, code_for, parse_code

SAMPLE = [code_for(stable_id("inbound", f"SF{n:012d}"), stable_id("task", n)) for n in range(200)]


def test_a_code_is_kf_ten_base32_characters_and_a_check_character():
    for code in SAMPLE:
        assert len(code) == CODE_LENGTH and code.startswith("KF")
        assert all(char in ALPHABET for char in code[2:])
        assert code[-1] == check_character(code[2:-1])


def test_the_same_parcel_gives_the_same_code_and_different_parcels_different_codes():
    assert code_for("inbound-1", "task-1") == code_for("inbound-1", "task-1")
    assert len(set(SAMPLE)) == len(SAMPLE)


def test_round_trip_through_parse_with_spaces_dashes_and_lower_case():
    for code in SAMPLE:
        assert parse_code(code) == code
        assert parse_code(f" {code[:5].lower()}-{code[5:9]} {code[9:]} ") == code


def test_crockford_look_alikes_read_as_the_digits_they_resemble():
    code = next(c for c in SAMPLE if "1" in c[2:] and "0" in c[2:])
    typed = code[:2] + code[2:].replace("1", "l").replace("0", "O")
    assert parse_code(typed) == code


def test_every_single_character_substitution_is_rejected():
    for code in SAMPLE:
        for position in range(2, CODE_LENGTH):
            for char in ALPHABET:
                if char == code[position]:
                    continue
                typo = code[:position] + char + code[position + 1:]
                with pytest.raises(DomainError, match="check character") as refused:
                    parse_code(typo)
                assert refused.value.status == 422


def test_every_swap_of_two_different_characters_is_rejected():
    for code in SAMPLE:
        for i, j in itertools.combinations(range(2, CODE_LENGTH), 2):
            if code[i] == code[j]:
                continue
            swapped = list(code)
            swapped[i], swapped[j] = swapped[j], swapped[i]
            with pytest.raises(DomainError, match="check character"):
                parse_code("".join(swapped))


@pytest.mark.parametrize("text", ["", "KF", "KF123", "XX" + "0" * 11, SAMPLE[0] + "0", SAMPLE[0][:-1],
                                  SAMPLE[0][:5] + "U" + SAMPLE[0][6:], SAMPLE[0][:5] + "*" + SAMPLE[0][6:]])
def test_malformed_codes_say_what_a_code_looks_like(text):
    with pytest.raises(DomainError, match="not a traceability code") as refused:
        parse_code(text)
    assert refused.value.status == 422
