"""The inflection table: literal phrases a native speaker would write, across ru, sk and en."""

import pytest

from smmdesk.keywords import inflect

RU = [
    # (function, args, expected)
    (inflect.ru_with, ("в", "Ленинский район", "loct"), "в Ленинском районе"),
    (inflect.ru_with, ("в", "Центральный район", "loct"), "в Центральном районе"),
    (inflect.ru_with, ("в", "Дзержинский район", "loct"), "в Дзержинском районе"),
    (inflect.ru_with, ("в", "Промышленный район", "loct"), "в Промышленном районе"),
    (inflect.ru_with, ("в", "Оренбург", "loct"), "в Оренбурге"),
    (inflect.ru_with, ("в", "Владимир", "loct"), "во Владимире"),
    (inflect.ru_with, ("в", "Франция", "loct"), "во Франции"),
    (inflect.ru_with, ("в", "Москва", "loct"), "в Москве"),
    (inflect.ru_inflect, ("Оренбург", "gent"), "Оренбурга"),
    (inflect.ru_inflect, ("Ленинский район", "gent"), "Ленинского района"),
    (inflect.ru_with, ("у", "метро", "gent"), "у метро"),
    (inflect.ru_with, ("у", "вокзал", "gent"), "у вокзала"),
    (inflect.ru_with, ("с", "вокзал", "ablt"), "с вокзалом"),
    (inflect.ru_with, ("с", "торговый центр", "ablt"), "с торговым центром"),
    (inflect.ru_with, ("с", "стрижка", "ablt"), "со стрижкой"),
    (inflect.ru_with, ("о", "укладка", "loct"), "об укладке"),
    (inflect.ru_with, ("о", "стрижка", "loct"), "о стрижке"),
    (inflect.ru_with, ("на", "женская стрижка", "accs"), "на женскую стрижку"),
    (inflect.ru_with, ("на", "стрижка мужская", "accs"), "на стрижку мужскую"),
    (inflect.ru_with, ("на", "свадебный образ", "accs"), "на свадебный образ"),
    (inflect.ru_inflect, ("женская стрижка", "gent"), "женской стрижки"),
    (inflect.ru_inflect, ("стрижка для ребёнка", "gent"), "стрижки для ребёнка"),
    (inflect.ru_inflect, ("свадебная причёска", "ablt"), "свадебной причёской"),
    (inflect.ru_agree, ("лучший", "женская стрижка"), "лучшая"),
    (inflect.ru_agree, ("лучший", "окрашивание"), "лучшее"),
    (inflect.ru_agree, ("лучший", "мужской образ"), "лучший"),
    (inflect.ru_district, ("Ленинский",), "Ленинский район"),
    (inflect.ru_in_district, ("Ленинский район", "Оренбург"), "в Ленинском районе Оренбурга"),
    (inflect.ru_in_district, ("Центральный район", "Москва"), "в Центральном районе Москвы"),
]
SK = [
    (inflect.sk_with, ("v", "Petržalka"), "v Petržalke"),
    (inflect.sk_with, ("v", "Bratislava"), "v Bratislave"),
    (inflect.sk_with, ("v", "Staré Mesto"), "v Starom Meste"),
    (inflect.sk_with, ("v", "Ružinov"), "v Ružinove"),
    (inflect.sk_with, ("v", "Nové Mesto"), "v Novom Meste"),
    (inflect.sk_with, ("v", "Košice"), "v Košiciach"),
    (inflect.sk_with, ("v", "Karlova Ves"), "v Karlovej Vsi"),
    (inflect.sk_with, ("v", "Trnava"), "v Trnave"),
    (inflect.sk_with, ("v", "Žilina"), "v Žiline"),
    (inflect.sk_with, ("v", "Prešov"), "v Prešove"),
    (inflect.sk_with, ("v", "Kežmarok"), "v Kežmarku"),
    (inflect.sk_with, ("v", "Lučenec"), "v Lučenci"),
    (inflect.sk_with, ("v", "Michalovce"), "v Michalovciach"),
    (inflect.sk_with, ("v", "Viedeň"), "vo Viedni"),
    (inflect.sk_with, ("na", "Slovensko"), "na Slovensku"),
    (inflect.sk_with, ("v", "Tatry"), "v Tatrách"),
    (inflect.sk_inflect, ("Bratislava", "gen"), "Bratislavy"),
    (inflect.sk_inflect, ("Košice", "gen"), "Košíc"),
    (inflect.sk_inflect, ("Ružinov", "gen"), "Ružinova"),
    (inflect.sk_inflect, ("Staré Mesto", "gen"), "Starého Mesta"),
    (inflect.sk_inflect, ("dámsky strih", "gen"), "dámskeho strihu"),
    (inflect.sk_inflect, ("dámsky strih", "loc"), "dámskom strihu"),
    (inflect.sk_inflect, ("svadobný účes", "loc"), "svadobnom účese"),
    (inflect.sk_inflect, ("strih pre ženy", "loc"), "strihu pre ženy"),
    (inflect.sk_agree, ("najlepší", "dámska kozmetika"), "najlepšia"),
    (inflect.sk_agree, ("najlepší", "pánsky strih"), "najlepší"),
    (inflect.sk_in_district, ("Petržalka", "Bratislava"), "v Petržalke v Bratislave"),
    (inflect.sk_in_district, ("Staré Mesto", "Košice"), "v Starom Meste v Košiciach"),
    (inflect.sk_in_district, ("Karlova Ves", "Bratislava"), "v Karlovej Vsi v Bratislave"),
    (inflect.sk_in_district, ("Ružinov", "Viedeň"), "v Ružinove vo Viedni"),
]
EN = [
    (inflect.en_district, ("Ленинский",), "Leninsky district"),
    (inflect.en_district, ("Центральный",), "Tsentralny district"),
    (inflect.en_district, ("Дзержинский",), "Dzerzhinsky district"),
    (inflect.en_district, ("Petržalka",), "Petržalka"),
    (inflect.en_place, ("Оренбург",), "Orenburg"),
    (inflect.en_place, ("Екатеринбург",), "Yekaterinburg"),
    (inflect.en_in_district, ("Leninsky district", "Orenburg"), "in Leninsky district Orenburg"),
    (inflect.en_in_district, ("Petržalka", "Bratislava"), "in Petržalka Bratislava"),
]


@pytest.mark.parametrize(("function", "args", "expected"), RU + SK + EN)
def test_inflection_table(function, args, expected):
    assert function(*args) == expected


def test_the_table_is_big_enough():
    assert len(RU) + len(SK) + len(EN) >= 40


def test_unknown_case_is_refused():
    with pytest.raises(ValueError):
        inflect.ru_inflect("район", "vocative")
    with pytest.raises(ValueError):
        inflect.sk_inflect("Petržalka", "dat")
