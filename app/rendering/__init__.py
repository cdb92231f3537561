"""Document rendering: typed context -> sandboxed Jinja HTML -> WeasyPrint PDF/A.

Modules, each importable on its own (nothing heavy runs at import time):

- ``french``: French number, money, date and typography formatting (Jinja filters);
- ``markdown``: CGV and particular terms (Markdown) to inert HTML;
- ``jinja``: the sandboxed template environment;
- ``pdf``: WeasyPrint behind a URL fetcher that serves only bundled assets;
- ``geometry``: the page and signature-box geometry shared with the e-signature step;
- ``contract``: the contract's typed context and its HTML/PDF rendering.
"""
