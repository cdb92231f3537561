"""The vendor's identity (PARAPHE_VENDOR_*, PARAPHE_VAT_EXEMPTION_REASON and the branding),
checked with the rest of `app.config.Settings` at start; apart so that config.py stays
readable, and so that the renderers that print the vendor import only this."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from stdnum.fr import siren as fr_siren

from app.branding import Branding, branding_from_env
from app.env_flags import read_flag
from app.rendering.french import grouped_siren, no_break


@dataclass(frozen=True)
class VendorIdentity:
    """The vendor that uses Paraphe: printed on every contract as the first party."""

    legal_name: str = "Éditeur Démo SAS"
    siren: str = "732829320"
    vat_number: str = "FR44732829320"
    address: str = "12 rue de la Paix, 75002 Paris"
    representative: str = "Service commercial"
    # Printed after the representative's name (« Directrice commerciale »). No default: a
    # vendor that sets its representative without a capacity prints none, never a wrong one.
    representative_title: str | None = None
    # The vendor's countersigner; unset: the sales user who generates the contract.
    signer_name: str | None = None
    signer_email: str | None = None
    # The account invoices are paid into (printed, BT-84/BT-86 of the Factur-X XML; BR-61
    # rejects a transfer without it). Checked at start; the default is the published example.
    iban: str = "FR7630006000011234567890189"
    bic: str | None = None
    # "Option pour le paiement de la taxe d'après les débits" (CGI art. 269, 2, c): a mandatory
    # invoice mention since 1 September 2026 when chosen (BT-8 = 5 in the XML).
    vat_on_debits: bool = False
    # The CGI provision exempting the vendor's 0 % lines: mandatory on an invoice with an exempt
    # base (CGI ann. II art. 242 nonies A, I-13°), BT-120; default: a training body's days.
    vat_exemption_reason: str = "Exonération de TVA, article 261-4-4° a du CGI"
    # What Code de commerce R123-237 requires on every invoice of a registered company (legal
    # form, share capital, RCS city; the SIREN as number): on invoices, and BT-33 of the XML.
    legal_form: str = "SAS"
    share_capital: Decimal = Decimal("10000.00")
    rcs_city: str = "Paris"
    # What signers and clients see of the vendor on every page and mail: logo, colour, the
    # support address (app/branding.py).
    branding: Branding = field(default_factory=Branding)

    @property
    def rcs(self) -> str:
        """« RCS Paris 732 829 320 » as printed: the registry's city and the SIREN grouped by
        three, held together by no-break spaces (a page or PDF never breaks the mention)."""
        return no_break(f"RCS {self.rcs_city} {grouped_siren(self.siren)}")


def vendor_identity(env: Mapping[str, str], problems: list[str]) -> VendorIdentity:
    """The vendor as the environment describes it; each bad value adds its French message to
    `problems` (the caller refuses to start when there is any) and reads as the default."""
    iban, bic = _bank_details(env, problems)
    vat_on_debits = read_flag(env, "PARAPHE_VENDOR_VAT_ON_DEBITS", "", problems)
    exemption = " ".join(
        env.get("PARAPHE_VAT_EXEMPTION_REASON", VendorIdentity.vat_exemption_reason).split()
    )
    if not 10 <= len(exemption) <= 200:
        problems.append(
            "PARAPHE_VAT_EXEMPTION_REASON : la disposition qui justifie l'exonération "
            "(10 à 200 caractères), ex. « Exonération de TVA, article 261-4-4° a du CGI »"
        )
    legal_form, share_capital, rcs_city = _legal_identity(env, problems)
    branding = branding_from_env(env, problems)
    return VendorIdentity(
        legal_name=env.get("PARAPHE_VENDOR_NAME", VendorIdentity.legal_name),
        siren=env.get("PARAPHE_VENDOR_SIREN", VendorIdentity.siren),
        vat_number=env.get("PARAPHE_VENDOR_VAT", VendorIdentity.vat_number),
        address=env.get("PARAPHE_VENDOR_ADDRESS", VendorIdentity.address),
        representative=env.get("PARAPHE_VENDOR_REPRESENTATIVE", VendorIdentity.representative),
        representative_title=_representative_title(env, problems),
        signer_name=env.get("PARAPHE_VENDOR_SIGNER_NAME") or None,
        signer_email=env.get("PARAPHE_VENDOR_SIGNER_EMAIL") or None,
        iban=iban,
        bic=bic,
        vat_on_debits=vat_on_debits,
        vat_exemption_reason=exemption,
        legal_form=legal_form,
        share_capital=share_capital,
        rcs_city=rcs_city,
        branding=branding,
    )


MAX_REPRESENTATIVE_TITLE = 120  # as a client signer's capacity (app.clients.services)


def _representative_title(env: Mapping[str, str], problems: list[str]) -> str | None:
    """PARAPHE_VENDOR_REPRESENTATIVE_TITLE, trimmed; unset or blank: None."""
    title = env.get("PARAPHE_VENDOR_REPRESENTATIVE_TITLE", "").strip()
    if len(title) > MAX_REPRESENTATIVE_TITLE or not title.isprintable():
        problems.append(
            "PARAPHE_VENDOR_REPRESENTATIVE_TITLE : la qualité du représentant de l'éditeur "
            "(120 caractères au plus, sur une ligne), ex. Directrice commerciale"
        )
        return None
    return title or None


def _bank_details(env: Mapping[str, str], problems: list[str]) -> tuple[str, str | None]:
    """The vendor's IBAN (compact) and optional BIC, checked with schwifty: country format,
    length and check digits for the IBAN, structure and country for the BIC. A typo here
    would send every client's payment to the wrong account."""
    # Imported here: its bank registry costs ~50 ms, which the processes that only need
    # VendorIdentity (the invoice renderers) do not pay.
    from schwifty import BIC, IBAN
    from schwifty.exceptions import SchwiftyException

    iban_raw = env.get("PARAPHE_VENDOR_IBAN", VendorIdentity.iban)
    iban = VendorIdentity.iban
    try:
        iban = IBAN(iban_raw).compact
    except SchwiftyException:
        problems.append(
            "PARAPHE_VENDOR_IBAN : IBAN invalide (pays, longueur ou clé de contrôle), "
            "ex. FR76 3000 6000 0112 3456 7890 189"
        )
    bic_raw = (env.get("PARAPHE_VENDOR_BIC") or "").strip()
    if not bic_raw:
        return iban, None
    try:
        return iban, str(BIC(bic_raw))
    except SchwiftyException:
        problems.append("PARAPHE_VENDOR_BIC : BIC invalide (8 ou 11 caractères, ex. AGRIFRPP)")
        return iban, None


_LEGAL_FORM = re.compile(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ .'’-]{1,59}")
_RCS_CITY = re.compile(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ .'’-]{1,59}")
MAX_SHARE_CAPITAL = Decimal("1e15")


def _legal_identity(env: Mapping[str, str], problems: list[str]) -> tuple[str, Decimal, str]:
    """The vendor's legal form, share capital and RCS registry city (C. com. R123-237),
    printed on every invoice: a wrong value is a wrong legal mention on each of them."""
    legal_form = " ".join(env.get("PARAPHE_VENDOR_LEGAL_FORM", VendorIdentity.legal_form).split())
    if not _LEGAL_FORM.fullmatch(legal_form):
        problems.append(
            "PARAPHE_VENDOR_LEGAL_FORM : la forme juridique de l'éditeur (2 à 60 lettres), "
            "ex. SAS, SARL, SA"
        )
    capital_raw = env.get("PARAPHE_VENDOR_SHARE_CAPITAL", str(VendorIdentity.share_capital))
    capital = VendorIdentity.share_capital
    try:
        capital = Decimal(capital_raw.strip().replace(" ", "").replace(",", "."))
        if not (
            capital.is_finite()
            and Decimal("1") <= capital < MAX_SHARE_CAPITAL
            and capital == capital.quantize(Decimal("0.01"))
        ):
            raise InvalidOperation
        capital = capital.quantize(Decimal("0.01"))
    except InvalidOperation:
        problems.append(
            "PARAPHE_VENDOR_SHARE_CAPITAL : le capital social en euros, positif, au centime "
            "près (ex. 10000 ou 10000,50)"
        )
        capital = VendorIdentity.share_capital
    rcs_city = " ".join(env.get("PARAPHE_VENDOR_RCS_CITY", VendorIdentity.rcs_city).split())
    if not _RCS_CITY.fullmatch(rcs_city):
        problems.append(
            "PARAPHE_VENDOR_RCS_CITY : la ville du greffe où l'éditeur est immatriculé au RCS "
            "(2 à 60 lettres), ex. Paris"
        )
    siren = env.get("PARAPHE_VENDOR_SIREN", VendorIdentity.siren)
    if not (siren.isdigit() and fr_siren.is_valid(siren)):
        problems.append(
            "PARAPHE_VENDOR_SIREN : SIREN invalide (9 chiffres, clé de Luhn), il est aussi le "
            "numéro d'immatriculation au RCS imprimé sur les factures"
        )
    return legal_form, capital, rcs_city
