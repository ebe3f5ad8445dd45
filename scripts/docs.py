"""`make docs`: build the docs site from docs/ with Sphinx, offline, warnings as errors and every
cross-reference checked (nitpicky), then look at it in headless Chromium.

The site is written to build/docs/ (open build/docs/index.html); the screenshots of the index, one
operator page and the errors page to build/docs/_screenshots/. Chromium is Debian's
(/usr/bin/chromium, installed by the Makefile as for `make ui-test`), driven by Playwright; it
opens the files directly, so no server runs and no address but the files is visited.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "build" / "docs"
SHOTS = OUT / "_screenshots"
CHROMIUM = "/usr/bin/chromium"
#: The pages looked at, and what each must show (a heading of its own and a generated table).
PAGES = {
    "index": ("airflow-provider-wa-phones", "Airflow minor"),
    "operators-nxcloud": ("NxCloud", "phones_path"),
    "errors": ("Errors", "SignatureDoesNotMatch"),
}


def build() -> None:
    started = time.monotonic()
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-E",
        "-W",
        "-n",
        "--keep-going",
        "-b",
        "html",
        "docs",
        str(OUT),
    ]
    subprocess.run(command, cwd=REPO, check=True)
    print(f"docs built in {time.monotonic() - started:.0f} s: {OUT / 'index.html'}")


def screenshots() -> list[Path]:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    taken = []
    with tempfile.TemporaryDirectory(prefix="wa-phones-docs-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage"],
            viewport={"width": 1280, "height": 900},
        )
        try:
            page = context.new_page()
            # Only the built files: any other request (a font CDN, a tracker) would be a defect here.
            visited: list[str] = []
            page.on("request", lambda request: visited.append(request.url))
            for name, (heading, table_text) in PAGES.items():
                page.goto((OUT / f"{name}.html").as_uri())
                text = page.inner_text("body")
                if heading not in text or table_text not in text:
                    raise SystemExit(f"{name}.html does not show {heading!r} and {table_text!r}")
                shot = SHOTS / f"{name}.png"
                page.screenshot(path=str(shot), full_page=False)
                taken.append(shot)
            outside = [url for url in visited if not url.startswith("file://")]
            if outside:
                raise SystemExit(f"the pages asked for addresses outside the build: {outside[:5]}")
        finally:
            context.close()
    return taken


def main() -> int:
    build()
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: `make docs` installs Debian's chromium first", file=sys.stderr)
        return 1
    for shot in screenshots():
        print(f"screenshot: {shot.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
