"""bot.themes: training, tagging, saving and loading, and the shipped default model."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from bot.themes import ThemeModel, default_model, load, model_for, save, train
from bot.themes.build import build
from bot.themes.features import features, fold
from bot.themes.shipped import DEFAULT_MODEL_FILE, example_rows
from flows.themes import THEMES

ROWS = [
    ("chegou atrasado demais", "late_delivery"),
    ("nao recebi ainda, atrasou", "late_delivery"),
    ("ta atrasado o pedido", "late_delivery"),
    ("faltou um item", "partial_delivery"),
    ("veio faltando uma peca", "partial_delivery"),
    ("so veio um item, faltou o outro", "partial_delivery"),
    ("adorei o produto", "satisfied"),
    ("muito bom, adorei", "satisfied"),
    ("gostei demais, adorei", "satisfied"),
    ("tudo otimo", "satisfied"),
]


def test_a_trained_model_tags_what_it_learned_and_none_for_empty_text() -> None:
    model = train(ROWS)
    assert model.tag("o pedido atrasou") == "late_delivery"
    assert model.tag("faltou uma peca") == "partial_delivery"
    assert model.tag("adorei") == "satisfied"
    assert model.tag("") is None
    assert model.tag("  \n\t") is None
    assert model.tag_many(["adorei", " ", "faltou um item"]) == [
        "satisfied",
        None,
        "partial_delivery",
    ]


def test_tagging_scores_as_scikit_learn_does() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    from bot.themes.training import SVM_C

    texts, themes = [t for t, _ in ROWS], [c for _, c in ROWS]
    vectorizer = TfidfVectorizer(analyzer=features, sublinear_tf=True)
    svm = LinearSVC(C=SVM_C, class_weight="balanced", random_state=0)
    svm.fit(vectorizer.fit_transform(texts), themes)
    model = train(ROWS)
    probe = ["atrasou atrasou muito", "faltou item, adorei", "palavra desconhecida xyz"]
    expected = svm.decision_function(vectorizer.transform(probe))
    ours = np.vstack([model.scores(t) for t in probe])
    assert model.classes == tuple(svm.classes_)
    np.testing.assert_allclose(ours, expected, atol=1e-9)


def test_scores_are_the_intercept_plus_the_normalised_tf_idf_weights() -> None:
    # Two classes, three features, the weights chosen by hand: "ok" has one known feature
    # ("w ok"), "ok ok bad" two ("w ok" twice, "w bad" once).
    vocabulary = {"w ok": 0, "w bad": 1, "w other": 2}
    idf = [2.0, 3.0, 1.0]
    coef = [1.0, -1.0, -2.0, 2.0, 5.0, 5.0]  # feature by feature: (ok), (bad), (other)
    model = ThemeModel(vocabulary, idf, coef, [0.5, -0.5], ["satisfied", "low_quality"])
    assert model.scores("ok") == pytest.approx([0.5 + 1.0, -0.5 - 1.0])
    ok, bad = (1 + math.log(2)) * 2.0, 3.0
    norm = math.hypot(ok, bad)
    expected = [0.5 + (ok * 1.0 + bad * -2.0) / norm, -0.5 + (ok * -1.0 + bad * 2.0) / norm]
    assert model.scores("ok ok bad") == pytest.approx(expected)
    assert model.tag("ok ok bad") == "low_quality"
    assert model.scores("nothing known") == [0.5, -0.5]
    with pytest.raises(ValueError, match="shapes"):
        ThemeModel(vocabulary, idf, coef[:5], [0.5, -0.5], ["satisfied", "low_quality"])


def test_unknown_theme_and_too_few_rows_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown theme 'shipping'"):
        train([*ROWS, ("veio rapido", "shipping")])
    with pytest.raises(ValueError, match="too few rows"):
        train(ROWS[:4])
    with pytest.raises(ValueError, match="too few rows"):
        train([(text, "satisfied") for text, _ in ROWS])  # one theme only


def test_save_then_load_gives_the_same_tags(tmp_path: Path) -> None:
    model = train(ROWS)
    path = tmp_path / "model.bin"  # any name: nothing is added to it
    save(model, path)
    again = load(path)
    assert again.classes == model.classes
    for text, _ in ROWS:
        np.testing.assert_allclose(again.scores(text), model.scores(text), rtol=1e-5)
    assert model_for(str(path)).tag("faltou um item") == "partial_delivery"


def test_a_bad_model_file_is_a_clear_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no such file"):
        load(tmp_path / "missing.npz")
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a model at all")
    with pytest.raises(ValueError, match="not a usable model file"):
        load(junk)
    other = tmp_path / "other.npz"
    np.savez(other, weights=np.zeros(3))
    with pytest.raises(ValueError, match="missing meta"):
        load(other)
    newer = tmp_path / "newer.npz"
    meta = '{"format": "postsale-themes", "version": 99, "classes": ["satisfied"]}'
    one = np.ones(1)
    np.savez(
        newer, meta=np.array(meta), vocabulary=np.array(["w a"]), idf=one, coef=one, intercept=one
    )
    with pytest.raises(ValueError, match="another version of postsale"):
        load(newer)


def test_folding_drops_case_accents_and_stretched_letters() -> None:
    assert fold("NÃO chegouuuu!!! Já?") == "nao chegouu ja"
    assert fold("Cancel·lar") == "cancel lar"


def test_the_shipped_model_is_what_the_build_makes_from_the_examples(tmp_path: Path) -> None:
    built = tmp_path / "model.npz"
    build(built)
    fresh, shipped = load(built), load(DEFAULT_MODEL_FILE)
    assert fresh.vocabulary == shipped.vocabulary
    assert fresh.classes == shipped.classes == tuple(sorted(THEMES))
    np.testing.assert_allclose(fresh.columns, shipped.columns, atol=1e-6)
    np.testing.assert_allclose(fresh.intercept, shipped.intercept, atol=1e-6)


def test_the_examples_cover_every_theme_in_every_language() -> None:
    from bot.themes.shipped import example_files, read_rows

    files = {p.stem: Counter(theme for _, theme in read_rows(p)) for p in example_files()}
    assert set(files) == {"pt_BR", "en", "es", "ca"}
    assert sum(files["pt_BR"].values()) >= 1000
    for language, themes in files.items():
        assert set(themes) == set(THEMES), language
        assert sum(themes.values()) >= 250, language
        assert min(themes.values()) >= (80 if language == "pt_BR" else 20), (language, themes)


# Written for this test, not taken from the examples (checked below): per theme two texts
# in each of pt-BR, en, es and ca, plain ones and informal or mixed ones.
CLEAR = {
    "late_delivery": [
        "ja faz tres semanas e meu pedido nao chegou",
        "my parcel still hasn't arrived and it's late",
        "mi pedido no ha llegado y ya paso la fecha",
        "la comanda encara no ha arribat i ja fa dies",
        "ja era pra ter chegado semana passada e nada ate agora",
        "passou a data e o pacote nunca chega",
        "still no sign of my package, it's overdue",
        "encara no ha arribat res i ja fa un mes",
    ],
    "early_delivery": [
        "chegou bem antes do prazo previsto",
        "it arrived days before the estimated date",
        "llego antes de la fecha prevista",
        "ha arribat abans del termini",
        "veio uns quatro dias antes da data prevista",
        "llego antes de lo que decia la web",
        "it came earlier than the date they gave me",
        "ha arribat abans de la data que deien",
    ],
    "partial_delivery": [
        "comprei dois itens e so recebi um",
        "one of the items is missing from the box",
        "falta un producto en el paquete",
        "falta un dels productes a la caixa",
        "pedi quatro unidades e so entregaram tres",
        "paid for a pair and only one came",
        "pedi dos y solo me ha llegado uno",
        "vaig demanar-ne dos i nomes me n'ha arribat un",
    ],
    "not_as_advertised": [
        "o produto que veio e diferente do anuncio",
        "the item is different from the photo",
        "el color es distinto al de la foto",
        "el producte es diferent de l'anunci",
        "o tamanho real e bem menor que o da descricao",
        "it's a different model from the one in the listing",
        "no es la marca que salia en el anuncio",
        "no s'assembla a la foto de l'anunci",
    ],
    "low_quality": [
        "veio com defeito e parou de funcionar",
        "it broke after two days, terrible quality",
        "se rompio enseguida, muy mala calidad",
        "s'ha trencat de seguida, qualitat dolenta",
        "chegou certinho mas em tres dias ja quebrou",
        "the handle snapped off on the first day",
        "se despego la suela a los pocos dias",
        "s'ha esquinçat el primer dia, molt mala qualitat",
    ],
    "return_exchange": [
        "quero devolver e receber o reembolso",
        "i would like to return it and get a refund",
        "quiero devolver el producto y que me reembolsen",
        "vull retornar-lo i que em tornin els diners",
        "preciso trocar por um numero menor",
        "how can i swap it for a bigger size?",
        "quiero cambiarlo por otro color",
        "vull tornar-lo i recuperar els diners",
    ],
    "other_delivery": [
        "a transportadora entregou no endereco errado",
        "the courier left it at the wrong address",
        "la caja llego aplastada y el paquete abierto",
        "el repartidor el va deixar a l'adreca equivocada",
        "o entregador largou a caixa na casa do vizinho",
        "the box came all crushed and torn",
        "el transportista no encontraba mi calle",
        "el paquet va arribar obert i rebentat",
    ],
    "other_order": [
        "fui cobrado duas vezes e a loja nao responde",
        "i was charged twice for the same order",
        "me cobraron dos veces el pedido",
        "m'han cobrat dues vegades la comanda",
        "apareceu duas cobrancas iguais no meu cartao",
        "the store never sent me the invoice",
        "me cancelaron la compra sin avisar",
        "no m'han enviat la factura de la compra",
    ],
    "satisfied": [
        "produto otimo, gostei muito, recomendo",
        "great product, very happy with it",
        "muy buen producto, estoy contento",
        "molt bon producte, estic content",
        "amei tudo, produto lindo e loja atenciosa",
        "really happy with it, works perfectly",
        "me encanto, funciona de maravilla",
        "m'agrada molt, funciona perfectament",
    ],
}


def test_the_default_model_tags_clear_texts_of_each_theme_in_each_language() -> None:
    known = {fold(text) for text, _ in example_rows()}
    model: ThemeModel = default_model()
    wrong = []
    for theme, texts in CLEAR.items():
        for text in texts:
            assert fold(text) not in known, text
            if model.tag(text) != theme:
                wrong.append((text, theme, model.tag(text)))
    assert wrong == []
    assert default_model() is model  # built once per process
    assert model_for("") is model
