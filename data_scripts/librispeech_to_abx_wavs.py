#!/usr/bin/env python3
"""Write 16 kHz wavs for the files of a ZeroSpeech .item file from a LibriSpeech tree (if you lack ZeroSpeech's wavs).

    python data_scripts/librispeech_to_abx_wavs.py data/LibriSpeech/dev-clean \
        data/spokencoco/zerospeech2021/phonetic/dev-clean.item data/spokencoco/zerospeech2021/phonetic/dev-clean
"""
import argparse
from vgs_study.prepare import librispeech_to_wavs

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("librispeech"); ap.add_argument("item"); ap.add_argument("out")
    a = ap.parse_args()
    print(f"{librispeech_to_wavs(a.librispeech, a.item, a.out)} wavs written to {a.out}")
