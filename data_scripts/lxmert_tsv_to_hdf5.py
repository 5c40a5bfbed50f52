#!/usr/bin/env python3
"""Convert the LXMERT "obj36" MSCOCO region features (TSV, base64 arrays) to HDF5, streaming (constant memory).

    python data_scripts/lxmert_tsv_to_hdf5.py data/downloads/train2014_obj36.tsv data/downloads/val2014_obj36.tsv \
        --out data/spokencoco/mscoco_imgfeat/coco_obj36.h5
"""
import argparse, sys
from pathlib import Path
from vgs_study.data import DataError
from vgs_study.prepare import lxmert_tsv_to_hdf5

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tsv", nargs="+", help="LXMERT *_obj36.tsv files (train2014, val2014), in any order")
    ap.add_argument("--out", required=True, help="the HDF5 file to write (features, boxes, img_id)")
    a = ap.parse_args()
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    try: n = lxmert_tsv_to_hdf5(a.tsv, a.out)
    except DataError as e: sys.exit(f"error: {e}")
    print(f"{n} images written to {a.out}")
