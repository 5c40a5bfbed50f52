#!/usr/bin/env bash
# Generate the embedded synthetic corpus (spoken captions of drawn scenes + a phone-aligned ABX set).
# Usage: data_scripts/make_synthetic_corpus.sh [tiny|default] [OUT_DIR] [WORKERS]
set -euo pipefail
preset=${1:-default}
out=${2:-data/synthetic-$preset}
workers=${3:-2}
exec vgs-study corpus --preset "$preset" --out "$out" --workers "$workers"
