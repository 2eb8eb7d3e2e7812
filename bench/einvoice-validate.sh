#!/usr/bin/env bash
# Validates sample invoices and a credit note, as Spaces renders them, against the official
# EN 16931 UBL schematron (ConnectingEurope/eInvoicing-EN16931, ubl/xslt/EN16931-UBL-validation.xslt)
# with Saxon-HE from PyPI (saxonche). Prints each failed rule and the fatal/warning counts; exits
# non-zero if any rule is fatal.
#
#   bench/einvoice-validate.sh [RULES_DIR]
#
# RULES_DIR holds EN16931-UBL-validation.xslt (the whole ubl/xslt/ directory of that repository,
# or a checkout of the repository itself). Without it the XSLT is downloaded once, at the pinned
# release below, into bench/einvoice/cache/ (git-ignored).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
release="${EN16931_RELEASE:-validation-1.3.16}"

xslt=""
if [[ $# -ge 1 ]]; then
    for candidate in "$1/EN16931-UBL-validation.xslt" "$1/ubl/xslt/EN16931-UBL-validation.xslt"; do
        [[ -f "$candidate" ]] && xslt="$candidate"
    done
    [[ -n "$xslt" ]] || { echo "no EN16931-UBL-validation.xslt under $1" >&2; exit 2; }
else
    xslt="$here/einvoice/cache/$release/EN16931-UBL-validation.xslt"
    if [[ ! -f "$xslt" ]]; then
        mkdir -p "$(dirname "$xslt")"
        url="https://raw.githubusercontent.com/ConnectingEurope/eInvoicing-EN16931/$release/ubl/xslt/EN16931-UBL-validation.xslt"
        echo "fetching $url"
        curl -fsSL "$url" -o "$xslt.part" && mv "$xslt.part" "$xslt"
    fi
fi

python3 -c 'import saxonche' 2>/dev/null || {
    echo "saxonche is missing: pip install saxonche" >&2
    exit 2
}

out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
(cd "$root" && cargo run -q -p spaces-gateway -- invoice-sample --out "$out" >/dev/null)
echo "rules: $xslt"
python3 "$here/einvoice/validate.py" "$xslt" "$out"/*.xml
