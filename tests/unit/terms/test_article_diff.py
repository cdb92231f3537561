"""The article-level comparison on the real CGV fixture: a copy with two articles changed, the
same text imported from plain text (nothing but its Markdown differs), and articles added,
removed and renumbered."""

from __future__ import annotations

import pytest

from app.terms.comparison import compare_articles, rendered_words
from app.terms.conversion import SourceFormat, convert
from app.terms.rules import split_articles
from tests.conftest import CGV_FIXTURE
from tests.unit.terms.docx_cgv import docx_of
from tests.unit.terms.plain_cgv import plain_text_of


def test_fixture_splits_into_its_articles() -> None:
    titles = [a.title for a in split_articles(CGV_FIXTURE.read_text(encoding="utf-8"))]
    assert titles[0] == "Conditions générales de vente et d'utilisation"
    assert "ARTICLE 7. CONDITIONS FINANCIERES" in titles
    assert "ARTICLE 18. DROIT APPLICABLE ET TRIBUNAL COMPETENT" in titles
    # sub-articles (### 7.1) stay inside their article
    assert not any(t.startswith("7.1") for t in titles)


def test_exactly_the_two_changed_articles_are_marked_word_by_word() -> None:
    original = CGV_FIXTURE.read_text(encoding="utf-8")
    notice = "la bonne prise en compte de la résiliation sous 2 jours ouvrés."
    assert notice in original
    price = "QUANTOS EVOLUTION procède au prélèvement automatique"
    assert price in original
    modified = original.replace(notice, notice.replace("2 jours", "5 jours")).replace(
        price, "QUANTOS EVOLUTION procède chaque trimestre au prélèvement automatique"
    )

    diff = compare_articles(original, modified)
    changed = [d for d in diff if d.status != "same"]
    assert [d.title for d in changed] == [
        "ARTICLE 7. CONDITIONS FINANCIERES",
        "ARTICLE 13. DUREE – DENONCIATION – RESILIATION - FIN DU CONTRAT",
    ]
    marked = [[(s.kind, s.text) for s in d.segments if s.kind != "same"] for d in changed]
    assert marked == [[("ins", "chaque trimestre")], [("del", "2"), ("ins", "5")]]
    assert len(diff) == len(split_articles(original))


@pytest.mark.parametrize("source", [SourceFormat.TEXT, SourceFormat.DOCX])
def test_a_version_imported_from_plain_text_or_word_matches_its_markdown_twin(
    source: SourceFormat,
) -> None:
    markdown = CGV_FIXTURE.read_text(encoding="utf-8")
    arriving = plain_text_of(markdown) if source is SourceFormat.TEXT else docx_of(markdown)
    diff = compare_articles(markdown, convert(arriving, source).markdown)
    statuses = {d.title: d.status for d in diff}
    assert all(status == "same" for status in statuses.values()), statuses
    assert "removed" not in statuses.values() and "added" not in statuses.values()
    for number in range(1, 19):
        (title,) = [t for t in statuses if t.startswith(f"ARTICLE {number}. ")]
        # the words a reader sees are the same: only the Markdown around them differs
        assert statuses[title] == "same", (title, [d.segments for d in diff if d.title == title])


def test_added_removed_and_renumbered_articles() -> None:
    head = "# CGV\n\n## Article 1. Objet\n\nA.\n\n"
    old = head + "## Article 2. Prix\n\nB.\n\n## Article 3. Fin\n\nC.\n"
    new = head + "Article 3 : Fin\n---\n\nC.\n\n## Article 4. Litiges\n\nD.\n"
    diff = compare_articles(old, new)
    assert [(d.status, d.title) for d in diff] == [
        ("same", "CGV"),
        ("same", "Article 1. Objet"),
        ("removed", "Article 2. Prix"),
        ("changed", "Article 3 : Fin"),  # another spelling of its heading, matched by number
        ("added", "Article 4. Litiges"),
    ]
    assert [(s.kind, s.text) for s in diff[3].segments if s.kind != "same"] == [
        ("del", "3."),
        ("ins", "3 :"),
    ]
    inserted = (
        head + "## Article 2. Délais\n\nX.\n\n## Article 3. Prix\n\nB.\n\n## Article 4. Fin\n\nC.\n"
    )
    diff = compare_articles(old, inserted)
    assert [(d.status, d.title) for d in diff][2:] == [
        ("added", "Article 2. Délais"),
        ("changed", "Article 3. Prix"),  # renumbered: found by its title
        ("changed", "Article 4. Fin"),
    ]


def test_words_are_read_from_the_rendered_text() -> None:
    assert rendered_words("**Prix** : 5 \\*") == ["Prix", ":", "5", "*"]
    assert rendered_words("- un\n- deux\n\nfin") == ["un", "\n", "deux", "\n", "fin"]


def test_every_article_status_has_its_french_label() -> None:
    from typing import get_args

    from app.rendering.labels import ARTICLE_CHANGE_LABELS
    from app.terms.comparison import Status

    assert set(ARTICLE_CHANGE_LABELS) == set(get_args(Status))
