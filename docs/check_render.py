"""Check the built site as a reader sees it: headless Chromium screenshots.

``python docs/check_render.py [HTML_DIR] [OUT_DIR]`` (``make docs`` runs it) opens the
index, the API reference and a notebook page of the built site (default
``docs/_build/html``) in headless Chromium and saves screenshots to OUT_DIR (default
``docs/_build/screenshots``). It fails if a page renders blank, if an image the page
links is missing or unreadable, or if a page's figures do not show: each page with
images is shot twice, with and without images, and the two must differ. Without a
``chromium`` binary (Debian: ``apt-get install chromium``) it says so and exits 0.
"""

import html.parser
import pathlib
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

PAGES = ["index.html", "api.html", "notebooks/01-delay-network.html"]
WINDOW = (1280, 2400)


class ImageSources(html.parser.HTMLParser):
    """The ``src`` of every ``<img>`` of a page."""

    def __init__(self):
        super().__init__()
        self.sources = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources.append(dict(attrs)["src"])


def linked_images(page):
    """The page's images, and problems: those missing or not decoding."""
    parser = ImageSources()
    parser.feed(page.read_text(encoding="utf-8"))
    images, problems = [], []
    for src in parser.sources:
        if "://" in src or src.startswith("data:"):
            continue
        path = page.parent / src
        try:
            with Image.open(path) as image:
                image.verify()
        except (OSError, SyntaxError) as error:
            problems.append(f"{page.name}: image {src} does not load ({error})")
        images.append(path)
    return images, problems


def screenshot(chromium, page, out, images=True):
    """Render ``page`` in headless Chromium into the PNG ``out``; return its pixels."""
    with tempfile.TemporaryDirectory() as profile:
        command = [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            f"--window-size={WINDOW[0]},{WINDOW[1]}",
            "--virtual-time-budget=10000",
            f"--screenshot={out}",
        ]
        if not images:
            command.append("--blink-settings=imagesEnabled=false")
        subprocess.run(
            command + [page.resolve().as_uri()],
            check=True,
            capture_output=True,
            timeout=120,
        )
    with Image.open(out) as image:
        return np.asarray(image.convert("RGB"), dtype=np.int16)


def check_page(chromium, page, out_dir):
    """Problems with one page (empty if none); saves its screenshot."""
    images, problems = linked_images(page)
    out = out_dir / (page.stem + ".png")
    pixels = screenshot(chromium, page, out)
    content = pixels[:, WINDOW[0] // 3 :]  # right of the navigation sidebar
    inked = np.mean(np.any(content < 200, axis=-1))
    if inked < 0.005:
        problems.append(f"{page.name} renders blank ({inked:.2%} of the pixels inked)")
    if images:
        without = screenshot(
            chromium, page, out_dir / (page.stem + "-noimages.png"), False
        )
        changed = np.mean(np.any(np.abs(pixels - without) > 30, axis=-1))
        if changed < 0.01:
            problems.append(
                f"{page.name}: its figures do not show ({changed:.2%} changed)"
            )
        print(f"{out}: {inked:.1%} inked, {len(images)} images, figures {changed:.1%}")
    else:
        print(f"{out}: {inked:.1%} inked, no images")
    return problems


def main(html_dir="docs/_build/html", out_dir="docs/_build/screenshots"):
    chromium = shutil.which("chromium")
    if chromium is None:
        print("check_render: no chromium binary, render check skipped")
        return 0
    html_dir, out_dir = pathlib.Path(html_dir), pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    problems = [
        p for page in PAGES for p in check_page(chromium, html_dir / page, out_dir)
    ]
    for problem in problems:
        print("check_render:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
