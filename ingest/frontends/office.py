"""Legacy Office files (Word 97-2003 ``.doc``, WPS ``.wps``, Excel 97-2003 ``.xls``, WPS ``.et``; all
OLE2 compound files, magic ``D0 CF 11 E0``): converted by LibreOffice when it is installed
(``soffice --headless --convert-to docx|xlsx``), then read by the DOCX front end (spreadsheets: every
sheet's rows as table rows).

The conversion runs in a fresh temporary directory with its own LibreOffice profile
(``-env:UserInstallation``, so nothing is shared with a desktop session or another worker), macros
disabled by that profile's default security, no network use (a converter does not fetch), and a time
limit; the process group is killed when it runs over. Without LibreOffice the file is quarantined
with a reason that says what to install (Debian: ``apt-get install libreoffice-writer-nogui
libreoffice-calc-nogui``).
"""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from ingest.frontends.rows import Block, para

OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
TIME_LIMIT_S = 60
INSTALL_HINT = "install LibreOffice (Debian: apt-get install libreoffice-writer-nogui libreoffice-calc-nogui)"


def converter() -> str | None:
    """The LibreOffice binary, from ``OGI_SOFFICE`` or the PATH."""
    explicit = os.environ.get("OGI_SOFFICE")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    return shutil.which("soffice") or shutil.which("libreoffice")


def ole2_kind(data: bytes) -> str:
    """'doc' (Word/WPS text), 'xls' (Excel/ET sheet) or 'ole2' (another compound file) from the stream
    names in the directory of the compound file, never from a file extension."""
    head = data[: 1 << 20]
    # directory entries name their streams in UTF-16LE
    if "WordDocument".encode("utf-16-le") in head or "WpsCustomData".encode("utf-16-le") in head:
        return "doc"
    if "Workbook".encode("utf-16-le") in head or "Book".encode("utf-16-le") in head:
        return "xls"
    return "ole2"


def read(data: bytes) -> tuple[list[Block] | None, str | None]:
    kind = ole2_kind(data)
    if kind == "ole2":
        return None, "OLE2 compound file that is neither a Word/WPS document nor an Excel/ET sheet"
    exe = converter()
    if exe is None:
        return None, f"legacy Office file (.{kind}/.{'wps' if kind == 'doc' else 'et'}) needs a converter: {INSTALL_HINT}"
    target = "docx" if kind == "doc" else "xlsx"
    with tempfile.TemporaryDirectory(prefix="ogi-soffice-") as tmp:
        src = Path(tmp) / f"in.{kind}"
        src.write_bytes(data)
        out_dir = Path(tmp) / "out"
        profile = Path(tmp) / "profile"
        cmd = [exe, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--invisible", "--norestore",
               "--nolockcheck", "--nodefault", "--convert-to", target, "--outdir", str(out_dir), str(src)]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tmp, "LANG": "C.UTF-8"}
        try:
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                                    cwd=tmp, start_new_session=True)
            try:
                _, err = proc.communicate(timeout=TIME_LIMIT_S)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
                return None, f"legacy Office conversion stopped after {TIME_LIMIT_S} s (time limit)"
        except OSError as e:
            return None, f"legacy Office converter could not start: {e}"[:300]
        out = out_dir / f"in.{target}"
        if not out.exists():
            detail = (err or b"").decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
            return None, f"legacy Office conversion failed: {detail[0]}"[:300]
        converted = out.read_bytes()
    if target == "docx":
        from ingest.frontends import docx

        return docx.read(converted)
    return _xlsx_blocks(converted)


def _xlsx_blocks(data: bytes) -> tuple[list[Block] | None, str | None]:
    """Every sheet's rows as table rows (cells as the sheet shows them); empty rows skipped."""
    import zipfile
    from xml.etree import ElementTree as ET

    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        shared = []
        if "xl/sharedStrings.xml" in zf.namelist():
            root = ET.fromstring(zf.read("xl/sharedStrings.xml"))
            shared = ["".join(t.text or "" for t in si.iter(f"{{{ns['m']}}}t")) for si in root.findall("m:si", ns)]
        sheets = sorted(n for n in zf.namelist() if n.startswith("xl/worksheets/sheet") and n.endswith(".xml"))
        blocks: list[Block] = []
        for sno, name in enumerate(sheets, start=1):
            root = ET.fromstring(zf.read(name))
            for row in root.iter(f"{{{ns['m']}}}row"):
                cells, locs = [], []
                for c in row.findall("m:c", ns):
                    v = c.find("m:v", ns)
                    text = v.text if v is not None and v.text else ""
                    if c.get("t") == "s" and text.isdigit() and int(text) < len(shared):
                        text = shared[int(text)]
                    elif c.get("t") == "inlineStr":
                        text = "".join(t.text or "" for t in c.iter(f"{{{ns['m']}}}t"))
                    cells.append(text.strip())
                    locs.append(f"sheet {sno}, cell {c.get('r')}")
                if any(cells):
                    blocks.append(Block("tab", cells, locs, [False] * len(cells)) if len(cells) > 1
                                  else para(cells[0], locs[0]))
    except Exception as e:  # a broken conversion result is recorded, not raised
        return None, f"converted sheet could not be read: {type(e).__name__}: {e}"[:300]
    return blocks, None
