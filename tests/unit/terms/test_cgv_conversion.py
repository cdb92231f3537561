"""CGV as they arrive — plain text, Word — become Markdown with their articles as headings:
"Article N" in its usual spellings, numbered headings in order, lists kept, the lines of a
paragraph merged, and the text's own characters kept inert."""

from __future__ import annotations

import pytest

from app.rendering.markdown import markdown_to_html
from app.terms.conversion import SourceFormat, UnreadableSource, convert
from app.terms.rules import split_articles
from tests.conftest import CGV_FIXTURE
from tests.unit.terms.docx_cgv import docx_of
from tests.unit.terms.plain_cgv import plain_text_of

FIXTURE_ARTICLES = [f"ARTICLE {n}." for n in range(1, 19)] + ["ANNEXE I", "ANNEXE II", "ANNEXE III"]


def _starts(found: list[str]) -> list[str]:
    return [next(p for p in FIXTURE_ARTICLES if t.startswith(p + " ")) for t in found]


def test_the_fixture_in_plain_text_keeps_its_articles_lists_and_paragraphs() -> None:
    converted = convert(plain_text_of(CGV_FIXTURE.read_text(encoding="utf-8")), SourceFormat.TEXT)
    assert _starts(converted.articles) == FIXTURE_ARTICLES and not converted.no_article
    md = converted.markdown
    assert md.startswith("# Conditions générales de vente et d'utilisation\n")
    assert "\n## ARTICLE 17. NON-RENONCIATION\n" in md
    assert "\n### 7.1. LE PRIX\n" in md  # a sub-article inside its article
    # a hard-wrapped paragraph is one paragraph again; "4.1. …" stays a paragraph
    assert "\n4.1. Avant toute utilisation de la Plateforme et des Services, le Client et " in md
    # dashes are list items, roman-numbered paragraphs too
    assert "\n- « Abonnement » : niveau d’Offre choisi" in md
    assert "\n- (ii) L’accord mutuel des Parties pour une résiliation immédiate.\n" in md
    titles = [a.title for a in split_articles(md)]
    assert "ARTICLE 7. CONDITIONS FINANCIERES" in titles and "7.1. LE PRIX" not in titles


def test_article_spellings_and_numbered_headings() -> None:
    text = (
        "CONDITIONS GÉNÉRALES\n\n"
        "Article 1 - Objet\nLes présentes conditions régissent\nla vente.\n\n"
        "ARTICLE 2. PRIX\n\nLe prix est ferme.\n\n"
        "Article 17 : réversibilité\n\n- une copie des données ;\n– un export CSV.\n\n"
        "1. premier alinéa numéroté ;\n2. second alinéa.\n"
    )
    converted = convert(text, SourceFormat.TEXT)
    assert converted.articles == [
        "Article 1 - Objet",
        "ARTICLE 2. PRIX",
        "Article 17 : réversibilité",
    ]
    md = converted.markdown
    assert "## Article 1 - Objet\n\nLes présentes conditions régissent la vente.\n" in md
    assert "- une copie des données ;\n- un export CSV.\n" in md
    assert "1. premier alinéa numéroté ;\n2. second alinéa.\n" in md

    numbered = convert(
        "1. Objet\n\nTexte.\n\n2 - Prix\n\nTexte.\n\n7. Hors série\n", SourceFormat.TEXT
    )
    assert numbered.articles == ["1. Objet", "2 - Prix"]  # 7 does not follow 2: an item


def test_one_paragraph_per_line_as_word_exports_text() -> None:
    text = "ARTICLE 1. OBJET\nPremière phrase.\nSeconde phrase, coupée\nen deux lignes.\n"
    md = convert(text, SourceFormat.TEXT).markdown
    assert "Première phrase.\n\nSeconde phrase, coupée en deux lignes.\n" in md


def test_no_article_found_is_said() -> None:
    converted = convert("Un texte sans article.\n\nDeux paragraphes.\n", SourceFormat.TEXT)
    assert converted.no_article and converted.articles == []


def test_the_texts_own_characters_stay_text() -> None:
    hostile = (
        "ARTICLE 1. OBJET\n\n<script>alert(1)</script> *gras* [lien](javascript:x) # 2024. fin\n"
    )
    html = str(markdown_to_html(convert(hostile, SourceFormat.TEXT).markdown))
    assert "<script>" not in html and "<em>" not in html and "<a " not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; *gras* [lien](javascript:x) # 2024. fin" in html


def test_the_fixture_as_a_word_file() -> None:
    converted = convert(docx_of(CGV_FIXTURE.read_text(encoding="utf-8")), SourceFormat.DOCX)
    assert _starts(converted.articles) == FIXTURE_ARTICLES
    md = converted.markdown
    assert md.startswith("# Conditions générales de vente et d'utilisation\n")
    assert "\n### 7.1. LE PRIX\n" in md
    assert "\n- « Abonnement » : niveau d’Offre choisi" in md


def test_a_file_that_is_not_a_word_document_is_refused() -> None:
    with pytest.raises(UnreadableSource):
        convert(b"PK\x03\x04 not really", SourceFormat.DOCX)
