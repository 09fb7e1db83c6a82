"""SMS part counting against the test vectors of compliance.md."""

import pytest

from collect_cli.domain.sms import sms_length


@pytest.mark.parametrize("n,parts", [(160, 1), (161, 2), (306, 2), (307, 3)])
def test_gsm7_vectors(n, parts):
    s = sms_length("a" * n)
    assert (s.encoding, s.parts) == ("GSM-7", parts)


@pytest.mark.parametrize("n,parts", [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_chinese_vectors(n, parts):
    s = sms_length("逾" * n)
    assert (s.encoding, s.parts) == ("UCS-2", parts)


def test_extension_characters_count_two():
    assert sms_length("{" * 80).parts == 1
    assert sms_length("{" * 81).parts == 2
    assert sms_length("€" + "a" * 159).units == 161


def test_one_character_outside_gsm7_makes_the_whole_message_ucs2():
    s = sms_length("a" * 69 + "元")
    assert (s.encoding, s.units, s.parts) == ("UCS-2", 70, 1)
    assert sms_length("a" * 70 + "元").parts == 2


def test_the_signature_counts():
    body = "尊" * 64
    assert sms_length(body).parts == 1
    assert sms_length("【某某消费金融】" + body).parts == 2
