"""Settings: one frozen object built from the environment and validated at start.

Every setting has an embedded default so that the service runs anywhere with one command
(SQLite, local blob storage, a development PKI, an outbox folder instead of SMTP); production
overrides them through environment variables documented in the README.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlsplit

from stdnum.fr import siren as fr_siren

from app.backup_settings import BackupSettings, backup_settings
from app.branding import Branding, branding_from_env
from app.instance_secret import instance_secret
from app.production import ENV_DEVELOPMENT, ENV_PRODUCTION, production_problems, read_environment
from app.queue.settings import QUEUE_INLINE, queue_url_from
from app.storage_settings import object_storage

REPO_ROOT = Path(__file__).resolve().parent.parent


RATELIMIT_DATABASE = "database"  # rate limits counted in the application's database


class ConfigError(Exception):
    """The environment does not describe a usable configuration; the message lists why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("Configuration invalide :\n  - " + "\n  - ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class VendorIdentity:
    """The vendor that uses Paraphe: printed on every contract as the first party."""

    legal_name: str = "Éditeur Démo SAS"
    siren: str = "732829320"
    vat_number: str = "FR44732829320"
    address: str = "12 rue de la Paix, 75002 Paris"
    representative: str = "Service commercial"
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
        """« RCS Paris 732 829 320 »: the registry's city and the SIREN, grouped by three."""
        grouped = " ".join(self.siren[i : i + 3] for i in range(0, len(self.siren), 3))
        return f"RCS {self.rcs_city} {grouped}"


@dataclass(frozen=True)
class RetentionPolicy:
    """How long documents are kept (the rules themselves live in app.documents.retention).

    Defaults follow French law: accounting documents 10 years after the fiscal year ends
    (C. com. L123-22), contracts and their evidence 5 years after the contract ends (C. com.
    L110-4, C. civ. 2224), other client data 6 months after termination (our CGV)."""

    accounting_years: int = 10
    contract_years: int = 5
    client_data_months: int = 6
    sent_mail_days: int = 90
    """The outbox's rows of sent mails (bodies, attachments): kept this long for support and
    resending questions, then deleted by the purge (the audit journal keeps the facts)."""
    fiscal_year_end_month: int = 12
    fiscal_year_end_day: int = 31
    cgv_preview_days: int = 30
    """CGV previews never published (drafts legal abandoned, each with its text and PDF):
    deleted by the daily purge once this old; a published one is kept with its version."""


@dataclass(frozen=True)
class Settings:
    instance_dir: Path
    database_url: str
    secret_key: str
    storage_dir: Path
    outbox_dir: Path
    pki_dir: Path
    # s3://bucket[/prefix]: the blobs in an S3-compatible bucket (app/storage_config.py); the
    # credentials are the AWS_* variables, read by boto3 itself: never here, never logged.
    storage_url: str | None = None
    s3_endpoint_url: str | None = None
    s3_region: str | None = None
    base_url: str = "http://127.0.0.1:5000"
    smtp_url: str | None = None
    mail_from: str = "Paraphe <no-reply@paraphe.localhost>"
    seal_pkcs12_path: Path | None = None
    seal_pkcs12_passphrase: str | None = field(default=None, repr=False)
    tsa_url: str | None = None
    # A seal key in a PKCS#11 token (HSM) instead of a PKCS#12 file: all of module, token,
    # PIN and certificate label, or none. The chain labels name the CA certificates to embed.
    seal_pkcs11_module: str | None = None
    seal_pkcs11_token: str | None = None
    seal_pkcs11_pin: str | None = field(default=None, repr=False)
    seal_pkcs11_key_label: str | None = None
    seal_pkcs11_cert_label: str | None = None
    seal_pkcs11_chain_labels: tuple[str, ...] = ()
    signing_link_days: int = 30
    # Days after the invitation when a signer who has not signed is reminded.
    reminder_days: tuple[int, ...] = (3, 7, 14)
    contract_templates_dir: Path | None = None
    vendor: VendorIdentity = field(default_factory=VendorIdentity)
    ratelimit_storage_uri: str = "database"  # RATELIMIT_DATABASE, or a `limits` storage URI
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    seal_invoices: bool = False  # PAdES seal of the platform on each invoice PDF, off by default
    backup: BackupSettings = field(default_factory=BackupSettings)  # app/backup_settings.py
    # Reverse proxies in front of the server whose X-Forwarded-For / -Proto are believed. 0 (the
    # default): the headers are ignored, since anyone could forge them; behind one nginx: 1.
    # The client's IP feeds the rate limits and the evidence files.
    trusted_proxies: int = 0
    # One line per request, by route, never the raw path (app/access_log.py). Off when the
    # reverse proxy in front keeps the access log already.
    access_log: bool = True
    # Where background jobs wait for a worker (app/queue): "inline" runs each job in the
    # process that enqueues it, at once (the tests, a one-off command); sqlite:///… (the
    # embedded default, one machine), postgresql://… or redis://… (several machines).
    queue_url: str = QUEUE_INLINE
    # The queue's name on its broker: two instances sharing one Redis or PostgreSQL broker
    # keep their jobs apart by name.
    queue_name: str = "paraphe"
    # PARAPHE_ENV: "production" refuses every default that keeps state on one host or in one
    # process (app/production.py); "development" (the default) runs anywhere with none set.
    environment: str = ENV_DEVELOPMENT
    # Webhook deliveries to loopback, private, link-local or reserved addresses (checked after
    # DNS resolution, at each delivery). Off: a webhook URL must not reach the instance's own
    # network (metadata services, databases). The tests and a closed on-premise network set it.
    webhooks_allow_private: bool = False
    # Every wait of the webhooks' retry schedule multiplied by this (PARAPHE_WEBHOOKS_RETRY_SCALE):
    # for the tests and benches only (0.01 turns the 5 s, 5 min, 30 min… schedule into 50 ms,
    # 3 s, 18 s…), so that a real worker's retries fit in a test. Refused in production.
    webhooks_retry_scale: float = 1.0
    testing: bool = False

    def __repr__(self) -> str:  # never let the secret key reach a log line
        return f"Settings(instance_dir={self.instance_dir!s}, database={self.database_backend})"

    @property
    def production(self) -> bool:
        return self.environment == ENV_PRODUCTION

    @property
    def database_backend(self) -> str:
        return urlsplit(self.database_url).scheme.split("+")[0]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        problems: list[str] = []

        instance_dir = Path(env.get("PARAPHE_INSTANCE_DIR", str(REPO_ROOT / "instance"))).resolve()
        database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_dir / 'paraphe.db'}"
        if urlsplit(database_url).scheme.split("+")[0] not in {"sqlite", "postgresql"}:
            problems.append(
                "DATABASE_URL doit désigner SQLite (sqlite:///chemin) ou PostgreSQL "
                "(postgresql+psycopg://utilisateur@hôte/base)"
            )
        elif database_url.startswith("postgresql://"):
            # psycopg 3 is the driver we ship; SQLAlchemy would otherwise look for psycopg2.
            database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")

        # Shared by every server process: the application's database by default (no extra
        # service), Redis for a large deployment. memory:// counts per process, so it is only
        # right with a single one (`paraphe serve --workers 1`, `paraphe run`, tests).
        ratelimit_storage = env.get("PARAPHE_RATELIMIT_STORAGE", "").strip() or RATELIMIT_DATABASE
        if ratelimit_storage != RATELIMIT_DATABASE and urlsplit(ratelimit_storage).scheme not in {
            "memory",
            "redis",
            "rediss",
        }:
            problems.append(
                "PARAPHE_RATELIMIT_STORAGE doit valoir « database » (la base de l'application, "
                "par défaut), redis://hôte:port/n, rediss://… ou memory:// (un seul processus)"
            )
        queue_url = queue_url_from(env, instance_dir, problems)
        storage_url, s3_endpoint_url, s3_region = object_storage(env, problems)
        storage_dir = Path(env.get("PARAPHE_STORAGE_DIR", str(instance_dir / "blobs")))
        backup = backup_settings(env, instance_dir, storage_dir, storage_url, problems)

        base_url = env.get("PARAPHE_BASE_URL", "http://127.0.0.1:5000").rstrip("/")
        if urlsplit(base_url).scheme not in {"http", "https"}:
            problems.append("PARAPHE_BASE_URL doit commencer par http:// ou https://")

        smtp_url = env.get("PARAPHE_SMTP_URL") or None
        if smtp_url and urlsplit(smtp_url).scheme not in {"smtp", "smtps", "smtp+starttls"}:
            problems.append(
                "PARAPHE_SMTP_URL doit être de la forme smtp://, smtps:// ou smtp+starttls://"
            )

        p12 = env.get("PARAPHE_SEAL_PKCS12") or None
        p12_pass = env.get("PARAPHE_SEAL_PKCS12_PASSWORD") or None
        if p12 and not Path(p12).is_file():
            problems.append(f"PARAPHE_SEAL_PKCS12 : fichier introuvable ({p12})")

        pkcs11 = {
            name: env.get(f"PARAPHE_SEAL_PKCS11_{name}") or None
            for name in ("MODULE", "TOKEN", "PIN", "KEY_LABEL", "CERT_LABEL", "CHAIN_LABELS")
        }
        required = ("MODULE", "TOKEN", "PIN", "CERT_LABEL")
        if any(pkcs11.values()) and not all(pkcs11[n] for n in required):
            missing = ", ".join(f"PARAPHE_SEAL_PKCS11_{n}" for n in required if not pkcs11[n])
            problems.append(f"clé de cachet PKCS#11 incomplète : il manque {missing}")
        if pkcs11["MODULE"] and not Path(pkcs11["MODULE"]).is_file():
            problems.append(
                f"PARAPHE_SEAL_PKCS11_MODULE : fichier introuvable ({pkcs11['MODULE']})"
            )
        if pkcs11["MODULE"] and p12:
            problems.append("choisir PARAPHE_SEAL_PKCS12 ou PARAPHE_SEAL_PKCS11_*, pas les deux")

        tsa_url = env.get("PARAPHE_TSA_URL") or None
        if tsa_url and urlsplit(tsa_url).scheme not in {"http", "https"}:
            problems.append("PARAPHE_TSA_URL doit être une URL http(s)")
        if tsa_url and not p12 and not pkcs11["MODULE"]:
            # With a TSA the seal is PAdES B-LTA, which embeds the revocation status of every
            # certificate; the development PKI publishes none (no CRL, no OCSP), so every seal
            # would fail at signing time. Refused here rather than discovered contract after
            # contract ("alerts only when something is wrong").
            problems.append(
                "PARAPHE_TSA_URL demande un vrai certificat de cachet (PARAPHE_SEAL_PKCS12 ou "
                "PARAPHE_SEAL_PKCS11_*) : avec une autorité d'horodatage, le cachet est en "
                "PAdES B-LTA et embarque l'état de révocation de son certificat, que le "
                "certificat de développement ne publie pas (ni liste de révocation, ni OCSP) ; "
                "chaque cachet échouerait. Configurez le certificat de cachet, ou retirez "
                "PARAPHE_TSA_URL (signatures B-B)"
            )

        days_raw = env.get("PARAPHE_SIGNING_LINK_DAYS", "30")
        try:
            signing_link_days = int(days_raw)
            if not 1 <= signing_link_days <= 365:
                raise ValueError
        except ValueError:
            problems.append("PARAPHE_SIGNING_LINK_DAYS doit être un entier entre 1 et 365")
            signing_link_days = 30

        reminders_raw = env.get("PARAPHE_REMINDER_DAYS", "3,7,14")
        try:
            reminder_days = tuple(
                sorted({int(part) for part in reminders_raw.split(",") if part.strip()})
            )
            if any(not 1 <= d <= 365 for d in reminder_days):
                raise ValueError
        except ValueError:
            problems.append(
                "PARAPHE_REMINDER_DAYS : des nombres de jours entre 1 et 365 séparés par des "
                "virgules (ex. 3,7,14)"
            )
            reminder_days = (3, 7, 14)

        templates = env.get("PARAPHE_CONTRACT_TEMPLATES") or None
        if templates and not Path(templates).is_dir():
            problems.append(f"PARAPHE_CONTRACT_TEMPLATES : dossier introuvable ({templates})")

        retention = _retention_policy(env, problems)

        seal_invoices_raw = env.get("PARAPHE_SEAL_INVOICES", "").strip().lower()
        if seal_invoices_raw not in _FLAG_VALUES:
            problems.append("PARAPHE_SEAL_INVOICES doit valoir 1 ou 0 (oui/non, true/false)")
        seal_invoices = _FLAG_VALUES.get(seal_invoices_raw, False)

        proxies_raw = env.get("PARAPHE_TRUSTED_PROXIES", "0").strip() or "0"
        trusted_proxies = int(proxies_raw) if proxies_raw.isdigit() else -1
        if not 0 <= trusted_proxies <= MAX_TRUSTED_PROXIES:
            problems.append(
                f"PARAPHE_TRUSTED_PROXIES doit être un entier entre 0 et {MAX_TRUSTED_PROXIES} "
                "(le nombre de proxys inverses devant le serveur)"
            )
            trusted_proxies = 0

        access_log_raw = env.get("PARAPHE_ACCESS_LOG", "1").strip().lower()
        if access_log_raw not in _FLAG_VALUES:
            problems.append("PARAPHE_ACCESS_LOG doit valoir 1 ou 0 (oui/non, true/false)")
        access_log = _FLAG_VALUES.get(access_log_raw, True)
        allow_private_raw = env.get("PARAPHE_WEBHOOKS_ALLOW_PRIVATE", "0").strip().lower()
        if allow_private_raw not in _FLAG_VALUES:
            problems.append("PARAPHE_WEBHOOKS_ALLOW_PRIVATE doit valoir 0 ou 1")
        webhooks_allow_private = _FLAG_VALUES.get(allow_private_raw, False)
        retry_scale = _retry_scale(env.get("PARAPHE_WEBHOOKS_RETRY_SCALE", "1"), problems)

        iban, bic = _bank_details(env, problems)
        debits_raw = env.get("PARAPHE_VENDOR_VAT_ON_DEBITS", "").strip().lower()
        if debits_raw not in _FLAG_VALUES:
            problems.append("PARAPHE_VENDOR_VAT_ON_DEBITS doit valoir 1 ou 0 (oui/non, true/false)")
        vat_on_debits = _FLAG_VALUES.get(debits_raw, False)
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

        environment = read_environment(env, problems)
        if environment == ENV_PRODUCTION:
            problems += production_problems(
                env,
                database_backend=urlsplit(database_url).scheme.split("+")[0],
                queue_url=queue_url,
                ratelimit_storage=ratelimit_storage,
                base_url=base_url,
                smtp_url=smtp_url,
                storage_url=storage_url,
                instance_dir=instance_dir,
                backup_keyring=backup.keyring_path,
            )
            if retry_scale != 1.0:
                problems.append(
                    "PARAPHE_WEBHOOKS_RETRY_SCALE sert aux tests : en production, le calendrier "
                    "des nouvelles tentatives des webhooks n'est pas raccourci (valeur 1)"
                )

        if problems:
            raise ConfigError(problems)

        secret = env.get("PARAPHE_SECRET_KEY") or instance_secret(instance_dir)
        vendor = VendorIdentity(
            legal_name=env.get("PARAPHE_VENDOR_NAME", VendorIdentity.legal_name),
            siren=env.get("PARAPHE_VENDOR_SIREN", VendorIdentity.siren),
            vat_number=env.get("PARAPHE_VENDOR_VAT", VendorIdentity.vat_number),
            address=env.get("PARAPHE_VENDOR_ADDRESS", VendorIdentity.address),
            representative=env.get("PARAPHE_VENDOR_REPRESENTATIVE", VendorIdentity.representative),
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
        return cls(
            instance_dir=instance_dir,
            database_url=database_url,
            secret_key=secret,
            storage_dir=storage_dir,
            storage_url=storage_url,
            s3_endpoint_url=s3_endpoint_url,
            s3_region=s3_region,
            outbox_dir=Path(env.get("PARAPHE_OUTBOX_DIR", str(instance_dir / "outbox"))),
            pki_dir=Path(env.get("PARAPHE_PKI_DIR", str(instance_dir / "pki"))),
            base_url=base_url,
            smtp_url=smtp_url,
            mail_from=env.get("PARAPHE_MAIL_FROM", cls.mail_from),
            seal_pkcs12_path=Path(p12) if p12 else None,
            seal_pkcs12_passphrase=p12_pass,
            tsa_url=tsa_url,
            seal_pkcs11_module=pkcs11["MODULE"],
            seal_pkcs11_token=pkcs11["TOKEN"],
            seal_pkcs11_pin=pkcs11["PIN"],
            seal_pkcs11_key_label=pkcs11["KEY_LABEL"],
            seal_pkcs11_cert_label=pkcs11["CERT_LABEL"],
            seal_pkcs11_chain_labels=tuple(
                label.strip()
                for label in (pkcs11["CHAIN_LABELS"] or "").split(",")
                if label.strip()
            ),
            signing_link_days=signing_link_days,
            reminder_days=reminder_days,
            contract_templates_dir=Path(templates) if templates else None,
            vendor=vendor,
            ratelimit_storage_uri=ratelimit_storage,
            retention=retention,
            seal_invoices=seal_invoices,
            trusted_proxies=trusted_proxies,
            access_log=access_log,
            queue_url=queue_url,
            queue_name=env.get("PARAPHE_QUEUE_NAME", "").strip() or cls.queue_name,
            environment=environment,
            webhooks_allow_private=webhooks_allow_private,
            webhooks_retry_scale=retry_scale,
            backup=backup,
        )


MAX_TRUSTED_PROXIES = 5


def _retry_scale(raw: str, problems: list[str]) -> float:
    """PARAPHE_WEBHOOKS_RETRY_SCALE: a number in ]0, 1] (1 unless set)."""
    try:
        scale = float(raw.strip().replace(",", "."))
    except ValueError:
        scale = -1.0
    if not 0 < scale <= 1:
        problems.append("PARAPHE_WEBHOOKS_RETRY_SCALE doit être un nombre de 0 (exclu) à 1")
        return 1.0
    return scale


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


_FLAG_VALUES = {
    "": False,
    "0": False,
    "non": False,
    "false": False,
    "no": False,
    "off": False,
    "1": True,
    "oui": True,
    "true": True,
    "yes": True,
    "on": True,
}


def _retention_policy(env: Mapping[str, str], problems: list[str]) -> RetentionPolicy:
    default = RetentionPolicy()
    values: dict[str, int] = {}
    for name, attr, low, high in (
        ("PARAPHE_RETENTION_ACCOUNTING_YEARS", "accounting_years", 1, 50),
        ("PARAPHE_RETENTION_CONTRACT_YEARS", "contract_years", 1, 50),
        ("PARAPHE_RETENTION_CLIENT_DATA_MONTHS", "client_data_months", 0, 120),
        ("PARAPHE_RETENTION_SENT_MAIL_DAYS", "sent_mail_days", 1, 3650),
        ("PARAPHE_RETENTION_CGV_PREVIEW_DAYS", "cgv_preview_days", 1, 3650),
    ):
        raw = env.get(name)
        if raw is None or raw == "":
            continue
        if raw.isdigit() and low <= int(raw) <= high:
            values[attr] = int(raw)
        else:
            problems.append(f"{name} doit être un entier entre {low} et {high}")
    fiscal = env.get("PARAPHE_FISCAL_YEAR_END")
    if fiscal:
        try:
            month, day = (int(part) for part in fiscal.split("-"))
            date(2023, month, day)  # a non-leap year: 02-29 cannot end every fiscal year
            values["fiscal_year_end_month"] = month
            values["fiscal_year_end_day"] = day
        except ValueError:
            problems.append("PARAPHE_FISCAL_YEAR_END doit être une date MM-JJ (ex. 12-31)")
    return replace(default, **values)
