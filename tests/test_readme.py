"""The README's test command is the one .ci/run calls, and the README links every notebook that exists."""

import re
from pathlib import Path

from aeutils.notebook import colab_badge_url

ROOT = Path(__file__).resolve().parent.parent


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Run every test\n```bash\n(.+?)\n```", readme, flags=re.S)
    assert block, "README has no 'Run every test' command block"
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1].strip() == block.group(1).strip()


def test_readme_links_each_notebook_and_its_badge():
    readme = (ROOT / "README.md").read_text()
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert f"(notebooks/{nb.name})" in readme and colab_badge_url(nb.name) in readme


def test_readme_gallery_images_exist():
    readme = (ROOT / "README.md").read_text()
    for image in re.findall(r"\]\((docs/images/[^)]+\.png)\)", readme):
        assert (ROOT / image).is_file(), image
