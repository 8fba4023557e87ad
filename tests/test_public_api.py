"""The public face of the package, pinned: a change here is a change users notice."""

from __future__ import annotations

import subprocess
import sys

import dataferry

PUBLIC = [
    "ApiError",
    "DataError",
    "DataferryError",
    "DownloadInterrupted",
    "Interrupted",
    "InvalidArgument",
    "JobCancelled",
    "JobFailed",
    "TransportError",
    "WaitInterrupted",
    "WaitTimeout",
    "__version__",
    "algolia",
    "brightdata",
    "emulator",
    "mytracker",
    "woosmap",
    "JobGroup",
    "as_completed",
    "group",
    "wait_all",
    "wait_all_async",
]


def test_public_names_are_pinned() -> None:
    assert sorted(dataferry.__all__) == sorted(PUBLIC)


def test_every_vendor_has_a_client() -> None:
    for name in dataferry.PROVIDERS:
        module = getattr(dataferry, name)
        assert hasattr(module, "Client"), name


def test_importing_dataferry_stays_light() -> None:
    code = "import sys, dataferry; print(sorted(m for m in ('pandas', 'pyarrow', 'requests') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_emulator_never_imports_the_client_side() -> None:
    code = (
        "import sys, dataferry\n"
        "package = set(sys.modules)  # what 'import dataferry' itself loads (errors, version)\n"
        "import dataferry.emulator as e\n"
        "for v in e.VENDORS: e.app_class(v)\n"
        "client = [m for m in sys.modules if m.startswith('dataferry.') and not m.startswith('dataferry.emulator')\n"
        "          and m not in package]\n"
        "print(sorted(client))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
