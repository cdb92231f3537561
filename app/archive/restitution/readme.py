"""LISEZMOI.txt, the archive's README: it names only what the archive holds (a folder with no
file is not listed), and says how to check the seal and each file."""

from __future__ import annotations

from collections.abc import Iterable

_HEAD = """Archive de restitution Paraphe
================================

Ce fichier .zip contient tous les documents archivés pour le client nommé dans
manifest.json, rangés par nature (un dossier par nature de document) :

"""

_ENTRIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("devis/", ("devis",)),
    ("contrats/", ("versions des contrats générés (PDF)",)),
    ("contrats-signes/", ("contrats signés électroniquement (PDF, signatures PAdES)",)),
    ("dossiers-de-preuve/", ("dossiers de preuve des signatures",)),
    (
        "cgv/",
        (
            "versions des conditions générales acceptées, en PDF/A",
            "tel qu'archivé à leur publication (texte Markdown pour",
            "une version publiée avant l'archivage des PDF)",
        ),
    ),
    ("factures/", ("factures",)),
    ("avoirs/", ("avoirs",)),
    ("certificats-de-suppression/", ("certificats des suppressions déjà faites",)),
    (
        "rapports-de-verification/",
        (
            "pour chaque PDF signé, le rapport de vérification de ses",
            "signatures (intégrité, validité, chaîne de confiance)",
        ),
    ),
    (
        "acceptations-cgv.json",
        ("historique des acceptations des CGV (qui, quand, comment)",),
    ),
    (
        "journal.json",
        (
            "extrait du journal d'audit chaîné vous concernant",
            "(chaque événement porte l'empreinte du précédent)",
        ),
    ),
    (
        "index.csv",
        (
            "un fichier par ligne : chemin, sha256, taille, nature,",
            "référence, version, date, durée de conservation ; colonnes",
            "séparées par « ; », encodage UTF-8 avec BOM (comme les autres",
            "exports CSV : un tableur français l'ouvre tel quel)",
        ),
    ),
    ("manifest.json", ("la même liste, avec l'identité du client",)),
    (
        "manifest.json.p7s",
        (
            "le cachet électronique de la plateforme sur manifest.json",
            "(signature CMS détachée, RFC 5652)",
        ),
    ),
)

_TAIL = """
Pour vérifier l'intégrité :
  1. le cachet : openssl cms -verify -binary -inform DER -in manifest.json.p7s
       -content manifest.json -CAfile <certificat racine de l'éditeur> -purpose any
  2. chaque fichier : recalculez son SHA-256 (par ex. `sha256sum LISEZMOI.txt`)
     et comparez-le à la valeur du manifeste.
Les signatures des PDF signés se vérifient aussi avec tout validateur PAdES.
"""

ALWAYS = ("acceptations-cgv.json", "journal.json", "index.csv", "manifest.json")
"""Files every archive holds, whatever the client's documents (with the seal and this one)."""


def readme(paths: Iterable[str]) -> str:
    """The LISEZMOI for an archive holding `paths` (and the files every archive holds)."""
    present = {path.split("/", 1)[0] + "/" for path in paths if "/" in path}
    present.update((*ALWAYS, "manifest.json.p7s"))
    lines = [_HEAD.rstrip("\n"), ""]
    for name, description in _ENTRIES:
        if name in present:
            lines.append(f"  {name:<30}{description[0]}")
            lines.extend(f"  {'':<30}{more}" for more in description[1:])
    return "\n".join(lines) + "\n" + _TAIL
