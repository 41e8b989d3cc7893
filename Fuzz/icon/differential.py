"""Differential check of the icon reader (issue 18): every PNG or JPEG that Gatehouse accepts must be
read the same by an independent reader — pngcheck (structure, CRCs, 32 × 32) and libjpeg's djpeg (no
fatal error, 32 × 32) — and every SVG it accepts must be well-formed, namespaces included, to expat, a
parser that does not recover from errors as libxml2 does for FoundationXML (browsers do not either).
Inputs: the icons of the given corpora, and mutants of them (bytes flipped, cut, repeated, inserted),
since the fuzzer keeps only inputs that reach new code.
Usage: differential.py FUZZ_BINARY FINDINGS_DIR CORPUS_DIR...  (exit 1 and the input kept on a disagreement)"""
import hashlib
import os
import struct
import zlib
import random
import re
import shutil
import subprocess
import sys
import tempfile
import xml.parsers.expat

binary, findings, corpora = sys.argv[1], sys.argv[2], sys.argv[3:]
PNG, JPEG = b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"
seeds, svgs = [], []
for folder in corpora:
    for name in sorted(os.listdir(folder)):
        data = open(os.path.join(folder, name), "rb").read()
        if data.startswith(PNG) or data.startswith(JPEG):
            seeds.append(data)
        elif b"<svg" in data.lower():
            svgs.append(data)
def fix_png_crcs(data):
    """Recomputes every chunk's CRC that can be found, so that a mutant reaches the chunk rules."""
    data = bytearray(data)
    at = 8
    while at + 12 <= len(data):
        length = struct.unpack(">I", data[at:at + 4])[0]
        if at + 12 + length > len(data):
            break
        data[at + 8 + length:at + 12 + length] = struct.pack(">I", zlib.crc32(bytes(data[at + 4:at + 8 + length])) & 0xFFFFFFFF)
        at += 12 + length
    return bytes(data)


def mutant(data, text=False):
    """One to three random edits: a byte set (an XML metacharacter, for text), the end cut, a piece
    repeated, bytes inserted, a piece deleted."""
    data = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        kind, at = rng.randrange(5), rng.randrange(len(data))
        if kind == 0:
            data[at] = rng.choice(b'<>&"\'=/ ;:!?#') if text and rng.random() < 0.5 else rng.randrange(256)
        elif kind == 1:
            del data[at:]
        elif kind == 2:
            data[at:at] = data[at:at + rng.randint(1, 64)]
        elif kind == 3:
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        else:
            del data[at:at + rng.randint(1, 16)]
        if len(data) < 4:
            break
    return bytes(data)


rng = random.Random(int(os.environ.get("DIFFERENTIAL_SEED", "18")))
inputs = list(seeds) + list(svgs)
for _ in range(3000 if seeds else 0):
    data = mutant(rng.choice(seeds))
    if data.startswith(PNG):
        inputs.append(data)
        inputs.append(fix_png_crcs(data))
    elif data.startswith(JPEG):
        inputs.append(data)
for _ in range(3000 if svgs else 0):
    inputs.append(mutant(rng.choice(svgs), text=True))

work = tempfile.mkdtemp(prefix="icon-differential-")
paths = []
for index, data in enumerate(inputs):
    path = os.path.join(work, f"{index:05d}")
    open(path, "wb").write(data)
    paths.append(path)
verdicts = {}
for start in range(0, len(paths), 500):
    batch = paths[start:start + 500]
    ran = subprocess.run([binary, "-detect_leaks=0"] + batch, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         env={**os.environ, "GATEHOUSE_FUZZ_VERDICT": "1",
                              # FoundationXML's per-error leak (icon/leaks.supp) is the leak pass's to judge.
                              "ASAN_OPTIONS": "detect_leaks=0"})
    out = ran.stderr.decode(errors="replace")
    if ran.returncode != 0:
        crashed = [line[len("Running: "):].strip() for line in out.splitlines() if line.startswith("Running: ")][-1:]
        os.makedirs(findings, exist_ok=True)
        for path in crashed:
            kept = os.path.join(findings, "icon-differential-crash-" + hashlib.sha1(open(path, "rb").read()).hexdigest()[:12])
            shutil.copy(path, kept)
            print(f"CRASH while reading {path} (exit {ran.returncode}):\n{out[-1500:]}\n  reproduce: {binary} {kept}")
        sys.exit(1)
    current = None
    for line in out.splitlines():
        if line.startswith("Running: "):
            current = line[len("Running: "):].strip()
        elif line.startswith("verdict: ") and current:
            verdicts[current] = line[len("verdict: "):]
            current = None

disagreements = 0
accepted = 0
for path in paths:
    verdict = verdicts.get(path)
    if verdict is None:
        print(f"no verdict for {path}: the harness did not run it")
        sys.exit(1)
    if not verdict.startswith("accepted "):
        continue
    accepted += 1
    problem = None
    if verdict == "accepted png":
        check = subprocess.run(["pngcheck", path], capture_output=True)
        said = (check.stdout + check.stderr).decode(errors="replace")
        # The compressed pixels are not inflated by Gatehouse (it never decodes an icon): pngcheck's
        # complaints about them alone are not structure. Everything else must agree.
        # Its summary lines (OK:, WARN:, ERROR:) aside, each line is one complaint; those about the
        # inflated pixels (zlib errors, row-filter types, the amount of data) are not structure.
        complaints = [line for line in said.splitlines() if line.strip() and not re.match(r"(OK|WARN|ERROR):", line)]
        pixels = r"zlib|inflate|compress|row-filter|IDAT.*(data|length|stream)|too (much|little) image data"
        structural = [line for line in complaints if not re.search(pixels, line)]
        summary = [line for line in said.splitlines() if re.match(r"(OK|WARN):", line)]
        if structural or (summary and "(32x32," not in summary[0]) or (check.returncode != 0 and not complaints):
            problem = "pngcheck: " + said.strip()[:300]
    elif verdict == "accepted jpeg":
        decoded = subprocess.run(["djpeg", "-pnm", path], capture_output=True)
        header = re.match(rb"P[56]\s+(\d+)\s+(\d+)", decoded.stdout)
        # djpeg's warnings (exit 2: corrupt or missing entropy-coded data) are about pixels, which
        # Gatehouse never decodes; a fatal error (exit 1) or another size is a disagreement.
        if decoded.returncode == 1 or not header or header.groups() != (b"32", b"32"):
            problem = "djpeg: " + decoded.stderr.decode(errors="replace").strip()[:300]
    elif verdict == "accepted svg":
        # Namespace-aware, as a browser parses image/svg+xml (an undeclared prefix is an error there), and
        # with its own eye on what the icon must not hold at all: a DOCTYPE, an entity, a processing
        # instruction (the XML declaration is none to expat).
        parser = xml.parsers.expat.ParserCreate(namespace_separator=" ")
        held = []
        parser.StartDoctypeDeclHandler = lambda *args: held.append("a DOCTYPE")
        parser.EntityDeclHandler = lambda *args: held.append("an entity declaration")
        parser.ProcessingInstructionHandler = lambda target, data: held.append(f"the processing instruction {target}")
        try:
            parser.Parse(open(path, "rb").read(), True)
            if held:
                problem = "expat: " + held[0]
        except (xml.parsers.expat.ExpatError, ValueError, LookupError) as error:
            # ValueError, LookupError: an encoding expat cannot read (UTF-7, EBCDIC), which Gatehouse must refuse.
            problem = f"expat: not well-formed ({type(error).__name__}: {error})"
    if problem:
        disagreements += 1
        os.makedirs(findings, exist_ok=True)
        kept = os.path.join(findings, "icon-differential-" + hashlib.sha1(open(path, "rb").read()).hexdigest()[:12])
        shutil.copy(path, kept)
        if disagreements <= 5:
            print(f"DISAGREEMENT: Gatehouse {verdict}, {problem}\n  reproduce: GATEHOUSE_FUZZ_VERDICT=1 {binary} {kept}; pngcheck/djpeg/expat {kept}")
shutil.rmtree(work)
print(f"icon differential: {len(paths)} inputs, {accepted} accepted by Gatehouse, {disagreements} disagreements with pngcheck/djpeg/expat")
sys.exit(1 if disagreements else 0)
