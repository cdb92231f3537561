from __future__ import annotations

import re

import pytest
from markupsafe import Markup

from app.rendering.french import NBSP, NNBSP
from app.rendering.markdown import markdown_to_html


def test_returns_markup_so_jinja_does_not_escape_it_twice() -> None:
    assert isinstance(markdown_to_html("texte"), Markup)


def test_headings_lists_and_emphasis() -> None:
    html = markdown_to_html(
        "ARTICLE 1. OBJET\n----------------\n\n"
        "### 7.1. LE PRIX\n\n"
        "1. premier\n2. second\n\n"
        "- un\n- deux\n\n"
        "Un **gras** et un *italique*."
    )
    assert "<h2>ARTICLE 1. OBJET</h2>" in html
    assert "<h3>7.1. LE PRIX</h3>" in html
    assert "<ol>\n<li>premier</li>\n<li>second</li>\n</ol>" in html
    assert "<ul>\n<li>un</li>\n<li>deux</li>\n</ul>" in html
    assert "<strong>gras</strong>" in html
    assert "<em>italique</em>" in html


def test_heading_offset_shifts_levels_and_stops_at_h6() -> None:
    html = markdown_to_html("# Titre\n\n## Article\n\n###### Fin", heading_offset=2)
    assert "<h3>Titre</h3>" in html
    assert "<h4>Article</h4>" in html
    assert "<h6>Fin</h6>" in html
    with pytest.raises(ValueError):
        markdown_to_html("x", heading_offset=-1)


@pytest.mark.parametrize(
    ("source", "escaped"),
    [
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ('<img src="http://evil/x.png">', "&lt;img src=&quot;http://evil/x.png&quot;&gt;"),
        ("<div>\n<iframe src=x></iframe>\n</div>", "&lt;iframe src=x&gt;&lt;/iframe&gt;"),
        ("texte <b onclick=x>gras</b>", "&lt;b onclick=x&gt;gras&lt;/b&gt;"),
    ],
)
def test_raw_html_is_escaped_text(source: str, escaped: str) -> None:
    html = markdown_to_html(source)
    assert escaped in html
    assert "<script" not in html
    assert "<img" not in html
    assert "<iframe" not in html


def test_images_become_their_text_and_address() -> None:
    html = markdown_to_html("Logo ![le logo](http://evil/x.png) et ![](file:///etc/passwd)")
    assert "<img" not in html
    assert "le logo (http://evil/x.png)" in html
    assert "file:///etc/passwd" in html


def test_links_become_text_followed_by_their_address() -> None:
    html = markdown_to_html(
        "Voir [la politique](https://www.dendreo.com/regles), écrire à "
        "[support@dendreo.com](mailto:support@dendreo.com) ou <https://pro.dendreo.com/>."
    )
    assert "<a " not in html
    assert "la politique (https://www.dendreo.com/regles)" in html
    assert "support@dendreo.com" in html
    assert "mailto:" not in html
    assert "https://pro.dendreo.com/" in html
    assert "(https://pro.dendreo.com/)" not in html


def test_javascript_links_are_plain_text() -> None:
    html = markdown_to_html("[clic](javascript:alert(1))")
    assert "<a " not in html
    assert "href" not in html


def test_french_typography_in_text_but_not_in_code() -> None:
    html = markdown_to_html('Le **Client** : voir `a:b` ; le "Site" !')
    assert f"</strong>{NBSP}: voir <code>a:b</code>{NNBSP}; le «{NBSP}Site{NBSP}»{NNBSP}!" in html


def test_quotes_pair_across_emphasis() -> None:
    html = markdown_to_html('le "**Site**" officiel')
    assert f"le «{NBSP}<strong>Site</strong>{NBSP}» officiel" in html


def test_template_syntax_stays_text() -> None:
    html = markdown_to_html("{{ 7*7 }} {% if x %}oui{% endif %}")
    assert "{{ 7*7 }}" in html
    assert "{% if x %}" in html


def test_real_cgv_renders_every_article(cgv_markdown: str) -> None:
    html = markdown_to_html(cgv_markdown, heading_offset=1)
    articles = re.findall(r"<h3>(ARTICLE \d+)\.", html)
    assert articles == [f"ARTICLE {n}" for n in range(1, 19)]
    assert "<h4>7.1. LE PRIX</h4>" in html
    assert html.startswith("<h2>Conditions générales de vente et d'utilisation</h2>")
