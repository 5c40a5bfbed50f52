#!/usr/bin/env python3
"""Build SpokenCOCO's unrolled Karpathy train/val/test files.

    python data_scripts/make_karpathy_split.py --spokencoco data/spokencoco/SpokenCOCO \
        --karpathy data/downloads/dataset_coco.json
"""
import argparse, json, sys
from pathlib import Path
from vgs_study.data import DataError
from vgs_study.prepare import build_karpathy_split

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spokencoco", required=True, help="folder with SpokenCOCO_train.json and SpokenCOCO_val.json")
    ap.add_argument("--karpathy", required=True, help="dataset_coco.json from caption_datasets.zip")
    ap.add_argument("--out", help="output folder (default: --spokencoco)")
    ap.add_argument("--wav-prefix", default="SpokenCOCO/",
                    help="prefix of every caption's wav path, relative to the data root (default: SpokenCOCO/)")
    ap.add_argument("--no-check-counts", action="store_true",
                    help="write the split even if its image counts differ from Karpathy's 113,287 / 5,000 / 5,000 "
                         "(for a subset of SpokenCOCO)")
    a = ap.parse_args()
    sc = Path(a.spokencoco)
    try: counts = build_karpathy_split([sc / "SpokenCOCO_train.json", sc / "SpokenCOCO_val.json"], a.karpathy,
                                       a.out or sc, a.wav_prefix, not a.no_check_counts)
    except DataError as e: sys.exit(f"error: {e}")
    print(json.dumps(counts, indent=1))
