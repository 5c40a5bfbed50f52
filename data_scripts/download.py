#!/usr/bin/env python3
"""Download the real corpora with resume and checksum verification.

    python data_scripts/download.py --out data/downloads spokencoco lxmert-train2014 lxmert-val2014 karpathy \
        librispeech-dev-clean zerospeech2021

Then unpack them (tar -xzf for SpokenCOCO, data_scripts/unpack.py for the zips) as data_scripts/README.md describes.
"""
import argparse, logging
from vgs_study.prepare import RESOURCES, download

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="+", choices=sorted(RESOURCES), help="the resources to download (resumable)")
    ap.add_argument("--out", default="data/downloads", help="download folder (default: data/downloads)")
    ap.add_argument("--sha256", help="expected SHA-256 (one resource only)")
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO)
    for n in a.names:
        r = RESOURCES[n]
        print(download(r["url"], f"{a.out}/{r['file']}", sha256=a.sha256, md5=r.get("md5")))
