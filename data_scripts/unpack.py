#!/usr/bin/env python3
"""Unpack what the next step needs from a zip archive, wherever the archive puts it (at its top, in a top folder or in
`mscoco_imgfeat/`): each file or folder lands in --out under its own name.

    python data_scripts/unpack.py data/downloads/train2014_obj36.zip train2014_obj36.tsv --out data/downloads/lxmert
    python data_scripts/unpack.py data/downloads/zerospeech2021-dataset.zip phonetic/dev-clean.item phonetic/dev-clean/ \
        --out data/spokencoco/zerospeech2021
"""
import argparse, sys
from vgs_study.data import DataError
from vgs_study.prepare import extract_found

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("archive", help="the zip file")
    ap.add_argument("wanted", nargs="+", help="file names, or folders ending in '/', to take from it (e.g. phonetic/dev-clean/)")
    ap.add_argument("--out", required=True, help="the folder they land in")
    a = ap.parse_args()
    try: files = extract_found(a.archive, a.wanted, a.out)
    except DataError as e: sys.exit(f"error: {e}")
    print(f"{len(files)} files from {a.archive} in {a.out}")
