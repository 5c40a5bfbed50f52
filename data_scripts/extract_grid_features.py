#!/usr/bin/env python3
"""Image features without Caffe: grid features of raw MSCOCO images from a TorchScript backbone (a local file).

Make the backbone once on a machine with torchvision, e.g.:
    import torch, torchvision
    m = torchvision.models.resnet50(weights="IMAGENET1K_V2"); m = torch.nn.Sequential(*list(m.children())[:-2])
    torch.jit.trace(m.eval(), torch.zeros(1, 3, 448, 448)).save("resnet50_grid.pt")
then:
    python data_scripts/extract_grid_features.py data/coco/val2014/*.jpg --backbone resnet50_grid.pt \
        --out data/spokencoco/mscoco_imgfeat/coco_grid.h5
and run with --set model.image_feat_dim=2048 --set data.image_features=mscoco_imgfeat/coco_grid.h5.
"""
import argparse
from vgs_study.prepare import grid_features

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("images", nargs="+"); ap.add_argument("--backbone", required=True); ap.add_argument("--out", required=True)
    ap.add_argument("--size", type=int, default=448)
    a = ap.parse_args()
    print(f"{grid_features(a.images, a.backbone, a.out, a.size)} images written to {a.out}")
