from kongfu.portal.i18n import TEXT, language_for, translate


def test_a_chosen_language_wins_then_the_browsers_preference_then_english():
    assert language_for("zh", "en-GB,en") == "zh"
    assert language_for(None, "zh-CN,zh;q=0.9,en;q=0.8") == "zh"
    assert language_for(None, "en;q=0.4,zh-TW;q=0.9") == "zh"  # by quality, not by position
    assert language_for(None, "fr-FR,de;q=0.9") == "en"
    assert language_for("fr", None) == "en"


def test_every_portal_text_exists_in_both_languages():
    for key, (english, chinese) in TEXT.items():
        assert english and chinese and english != chinese, key
    assert translate("transit_days", "zh", min=3, max=6) == "3–6 天"
