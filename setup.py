"""Ships the top-level templates/ and static/ folders inside the wheel.

The layout keeps them at the top of the checkout; an installed SafeBed finds them as
placement/templates and placement/static (placement.config.asset_dir).
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ASSET_FOLDERS = ("templates", "static")


class BuildWithAssets(build_py):
    """build_py that also copies the web assets into the built `placement` package."""

    def run(self):
        super().run()
        root = Path(__file__).resolve().parent
        for folder in ASSET_FOLDERS:
            target = Path(self.build_lib) / "placement" / folder
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(root / folder, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


setup(cmdclass={"build_py": BuildWithAssets})
