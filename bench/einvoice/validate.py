"""Runs the EN 16931 UBL schematron (compiled to XSLT) over UBL files with Saxon-HE (saxonche)
and prints each failed assertion and the fatal/warning counts. Exit 1 if any is fatal."""

import sys
import xml.etree.ElementTree as ET

from saxonche import PySaxonProcessor

SVRL = "{http://purl.oclc.org/dsdl/svrl}"


def main() -> int:
    xslt_path, files = sys.argv[1], sys.argv[2:]
    fatal_total = 0
    with PySaxonProcessor(license=False) as proc:
        executable = proc.new_xslt30_processor().compile_stylesheet(stylesheet_file=xslt_path)
        for path in files:
            report = executable.transform_to_string(source_file=path)
            counts = {"fatal": 0, "warning": 0}
            for failed in ET.fromstring(report).iter(SVRL + "failed-assert"):
                flag = failed.get("flag", "fatal")
                counts[flag] = counts.get(flag, 0) + 1
                text = " ".join((failed.findtext(SVRL + "text") or "").split())
                print(f"  {flag}: {failed.get('id')} at {failed.get('location')}: {text}")
            print(f"{path}: {counts['fatal']} fatal, {counts['warning']} warnings")
            fatal_total += counts["fatal"]
    return 1 if fatal_total else 0


if __name__ == "__main__":
    sys.exit(main())
