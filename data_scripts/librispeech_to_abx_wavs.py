#!/usr/bin/env python3
"""Write 16 kHz wavs for the files of a ZeroSpeech .item file from a LibriSpeech tree (if you lack ZeroSpeech's wavs).

    python data_scripts/librispeech_to_abx_wavs.py data/LibriSpeech/dev-clean \
        data/spokencoco/zerospeech2021/phonetic/dev-clean.item data/spokencoco/zerospeech2021/phonetic/dev-clean
"""
import argparse, sys
from vgs_study.data import DataError
from vgs_study.prepare import librispeech_to_wavs

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("librispeech", help="a LibriSpeech subset folder (dev-clean: speaker/chapter/*.flac)")
    ap.add_argument("item", help="the ZeroSpeech .item file whose files to write")
    ap.add_argument("out", help="the folder to write <file>.wav into")
    a = ap.parse_args()
    try: n = librispeech_to_wavs(a.librispeech, a.item, a.out)
    except DataError as e: sys.exit(f"error: {e}")
    print(f"{n} wavs written to {a.out}")
