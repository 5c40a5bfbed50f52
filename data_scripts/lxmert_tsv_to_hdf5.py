#!/usr/bin/env python3
"""Convert the LXMERT "obj36" MSCOCO region features (TSV, base64 arrays) to HDF5, streaming (constant memory).

    python data_scripts/lxmert_tsv_to_hdf5.py data/downloads/train2014_obj36.tsv data/downloads/val2014_obj36.tsv \
        --out data/spokencoco/mscoco_imgfeat/coco_obj36.h5
"""
import argparse
from pathlib import Path
from vgs_study.prepare import lxmert_tsv_to_hdf5

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tsv", nargs="+"); ap.add_argument("--out", required=True)
    a = ap.parse_args()
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    print(f"{lxmert_tsv_to_hdf5(a.tsv, a.out)} images written to {a.out}")
