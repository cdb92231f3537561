"""The article-level comparison on the real CGV fixture and a copy with two articles changed."""

from __future__ import annotations

from app.terms.rules import compare_articles, split_articles
from tests.conftest import CGV_FIXTURE


def test_fixture_splits_into_its_articles() -> None:
    titles = [a.title for a in split_articles(CGV_FIXTURE.read_text(encoding="utf-8"))]
    assert titles[0] == "Conditions générales de vente et d'utilisation"
    assert "ARTICLE 7. CONDITIONS FINANCIERES" in titles
    assert "ARTICLE 18. DROIT APPLICABLE ET TRIBUNAL COMPETENT" in titles
    # sub-articles (### 7.1) stay inside their article
    assert not any(t.startswith("7.1") for t in titles)


def test_exactly_the_two_changed_articles_are_marked() -> None:
    original = CGV_FIXTURE.read_text(encoding="utf-8")
    modified = original.replace(
        "QUANTOS EVOLUTION s’engage à confirmer la bonne prise en compte de la résiliation "
        "sous 2 jours ouvrés.",
        "QUANTOS EVOLUTION s’engage à confirmer la bonne prise en compte de la résiliation "
        "sous 5 jours ouvrés.",
    )
    assert modified != original
    price = "QUANTOS EVOLUTION procède au prélèvement automatique"
    assert price in modified
    modified = modified.replace(
        price, "QUANTOS EVOLUTION procède chaque trimestre au prélèvement automatique"
    )

    diff = compare_articles(original, modified)
    changed = [d for d in diff if d.status != "same"]
    assert [d.status for d in changed] == ["changed", "changed"]
    assert [d.right.title for d in changed if d.right] == [
        "ARTICLE 7. CONDITIONS FINANCIERES",
        "ARTICLE 13. DUREE – DENONCIATION – RESILIATION - FIN DU CONTRAT",
    ]
    # within each changed article, only the edited line is marked
    for d in changed:
        assert sum(line.changed for line in d.right_lines) == 1
        assert sum(line.changed for line in d.left_lines) == 1
    assert len(diff) == len(split_articles(original))


def test_added_removed_and_renamed_articles() -> None:
    head = "# CGV\n\n## Article 1. Objet\n\nA.\n\n"
    old = head + "## Article 2. Prix\n\nB.\n\n## Article 3. Fin\n\nC.\n"
    new = head + "## Article 3. Fin\n\nC.\n\n## Article 4. Litiges\n\nD.\n"
    statuses = []
    for d in compare_articles(old, new):
        article = d.left or d.right
        assert article is not None
        statuses.append((d.status, article.title))
    assert statuses == [
        ("same", "CGV"),
        ("same", "Article 1. Objet"),
        ("removed", "Article 2. Prix"),
        ("same", "Article 3. Fin"),
        ("added", "Article 4. Litiges"),
    ]
