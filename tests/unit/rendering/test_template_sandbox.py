from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from jinja2.sandbox import SandboxedEnvironment

from app.rendering.errors import RenderingError, TemplateSecurityError
from app.rendering.jinja import (
    CONTRACT_TEMPLATES_DIR,
    DEFAULT_TEMPLATE_DIRS,
    INVOICE_TEMPLATES_DIR,
    make_environment,
    render_template,
)


def _env_with(tmp_path: Path, **templates: str) -> SandboxedEnvironment:
    for name, source in templates.items():
        (tmp_path / f"{name}.html").write_text(source, encoding="utf-8")
    return make_environment([tmp_path])


def _render(tmp_path: Path, source: str, **context: object) -> str:
    return render_template(_env_with(tmp_path, t=source), "t.html", context)


def test_default_folders_are_the_bundled_contract_and_invoice_templates() -> None:
    assert DEFAULT_TEMPLATE_DIRS == (CONTRACT_TEMPLATES_DIR, INVOICE_TEMPLATES_DIR)
    env = make_environment()
    assert isinstance(env, SandboxedEnvironment)
    assert env.get_template("contract.html") is not None


def test_a_vendor_folder_overrides_the_bundled_templates(tmp_path: Path) -> None:
    (tmp_path / "contract.html").write_text("gabarit du vendeur", encoding="utf-8")
    env = make_environment([tmp_path, *DEFAULT_TEMPLATE_DIRS])
    assert render_template(env, "contract.html", {}) == "gabarit du vendeur"
    assert "@font-face" in render_template(env, "contract.css", {})


def test_autoescape_is_on(tmp_path: Path) -> None:
    html = _render(tmp_path, "<p>{{ name }}</p>", name="<script>alert(1)</script>")
    assert html == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"


def test_values_are_never_rendered_as_templates(tmp_path: Path) -> None:
    html = _render(tmp_path, "{{ a }} {{ b }}", a="{{ 7*7 }}", b="{% for x in y %}")
    assert html == "{{ 7*7 }} {% for x in y %}"
    assert "49" not in html


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ doc.__class__ }}",
        "{{ doc.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ self._TemplateReference__context }}",
        "{{ [].pop() }}",
        "{{ ('x' * 100000) }}",
        "{{ 9 ** 99999 }}",
    ],
)
def test_reaching_python_internals_fails_closed(tmp_path: Path, source: str) -> None:
    with pytest.raises(TemplateSecurityError):
        _render(tmp_path, source, doc=date(2022, 9, 4))


def test_errors_are_rendering_errors_with_their_cause(tmp_path: Path) -> None:
    with pytest.raises(RenderingError) as excinfo:
        _render(tmp_path, "{{ missing }}")
    assert excinfo.value.__cause__ is not None
    with pytest.raises(RenderingError):
        _render(tmp_path, "{% if %}")  # syntax error
    with pytest.raises(RenderingError):
        render_template(make_environment([tmp_path]), "absent.html", {})


def test_none_is_never_printed(tmp_path: Path) -> None:
    with pytest.raises(RenderingError, match="None"):
        _render(tmp_path, "TVA : {{ vat_number }}", vat_number=None)
    assert _render(tmp_path, "{% if v %}{{ v }}{% endif %}", v=None) == ""


def test_a_filter_refusing_a_value_is_a_rendering_error(tmp_path: Path) -> None:
    with pytest.raises(RenderingError, match="TypeError"):
        _render(tmp_path, "{{ x|format_amount }}", x=1.5)


def test_includes_cannot_leave_the_template_folders(tmp_path: Path) -> None:
    with pytest.raises(RenderingError):
        _render(tmp_path, '{% include "../../../etc/passwd" %}')


def test_french_filters_are_registered(tmp_path: Path) -> None:
    html = _render(
        tmp_path,
        "{{ a|format_amount }}|{{ q|format_decimal }}|{{ r|format_percent }}|"
        "{{ d|format_date }}|{{ t|format_datetime }}|{{ s|typographie }}|{{ m|markdown }}",
        a=Decimal("1234.5"),
        q=Decimal("2.50"),
        r=Decimal("20"),
        d=date(2024, 3, 1),
        t=datetime(2022, 9, 4, 12, 5, tzinfo=UTC),
        s="Note: <b>",
        m="**gras** <i>",
    )
    assert html == (
        "1\u202f234,50\u00a0€|2,5|20\u00a0%|1er mars 2024|4 septembre 2022 à 14\u00a0h\u00a005|"
        "Note\u00a0: &lt;b&gt;|<p><strong>gras</strong> &lt;i&gt;</p>\n"
    )
