"""Maps the repository's top-level folders onto the ``shouwang`` import package.

``core/`` installs as ``shouwang.core`` and ``integrations/`` as ``shouwang.integrations``
(normal and editable installs); nothing named bare ``core`` reaches site-packages.
Sub-packages are found here so a new integration folder needs no edit to this file.
"""

from setuptools import find_packages, setup

MAPPED = {"shouwang.core": "core", "shouwang.integrations": "integrations"}

packages: list[str] = []
for package, folder in MAPPED.items():
    packages.append(package)
    packages.extend(f"{package}.{sub}" for sub in find_packages(folder))

setup(
    packages=packages,
    package_dir=MAPPED,
    package_data={
        "shouwang.integrations": ["*/manifest.json", "*/*.yaml", "*/www/*"],
        "shouwang.core": ["py.typed"],
    },
    include_package_data=True,
)
