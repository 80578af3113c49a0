"""Writes the awkward-CSV corpus next to this file: `python tests/corpus/make_corpus.py`.

Each file shows one problem a real CSV has; tests/test_csv_corpus.py asserts what FitLab does with it.
The files are committed; this script documents how each was made and can rebuild them byte for byte.
"""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROWS = 120


def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def base_rows(n: int = ROWS) -> list[tuple[float, float, str, str]]:
    """(size, weight, colour, label): label depends on size, so a network can learn something."""
    r = rng()
    out = []
    for i in range(n):
        size = round(float(r.normal(10, 3)), 2)
        weight = round(float(r.normal(50, 5)), 1)
        colour = ("red", "green", "blue")[i % 3]
        out.append((size, weight, colour, "big" if size > 10 else "small"))
    return out


def lines(rows: list[list[str]], sep: str = ",", end: str = "\n") -> str:
    return "".join(sep.join(row) + end for row in rows)


def table(sep: str = ",", decimal: str = ".") -> list[list[str]]:
    rows = [["size", "weight", "colour", "label"]]
    for size, weight, colour, label in base_rows():
        rows.append([f"{size}".replace(".", decimal), f"{weight}".replace(".", decimal), colour, label])
    return rows


OUT = HERE


def write(name: str, content: str | bytes, encoding: str = "utf-8") -> None:
    data = content.encode(encoding) if isinstance(content, str) else content
    (OUT / name).write_bytes(data)


def xlsx() -> bytes:
    """A minimal (but real) Office Open XML workbook, as Excel writes it: a ZIP with xl/ inside."""
    buffer = io.BytesIO()

    def entry(name: str) -> zipfile.ZipInfo:
        return zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))  # fixed: the bytes do not depend on today

    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(
            entry("[Content_Types].xml"),
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.sheet.main+xml"/></Types>',
        )
        z.writestr(entry("_rels/.rels"), '<?xml version="1.0" encoding="UTF-8"?><Relationships/>')
        z.writestr(entry("xl/workbook.xml"), '<?xml version="1.0" encoding="UTF-8"?><workbook><sheets/></workbook>')
        z.writestr(entry("xl/worksheets/sheet1.xml"), '<?xml version="1.0" encoding="UTF-8"?><worksheet><sheetData/></worksheet>')
    return buffer.getvalue()


def main(out: Path = HERE) -> None:
    global OUT
    OUT = out
    good = table()
    # ---------------------------------------------------------------- reading
    write("semicolon_decimal_comma.csv", lines(table(";", ","), ";"))
    write("tab_separated.csv", lines(good, "\t"))
    write("pipe_separated.csv", lines(good, "|"))
    write("utf8_bom.csv", "\ufeff" + lines([["größe", *good[0][1:]], *good[1:]]))
    cities = ["Zürich", "Genève", "Málaga", "Köln"]
    euro = [["price €", "city", "label"]] + [[f"{i % 17}", cities[i % 4], "cheap" if i % 17 < 8 else "dear"] for i in range(ROWS)]
    write("windows1252.csv", lines(euro, ";", "\r\n"), encoding="cp1252")
    write("excel_unicode_text.csv", "\ufeff" + lines(euro, "\t", "\r\n"), encoding="utf-16-le")
    quoted = [["size", "city", "address", "label"]]
    for i, (size, _, _, label) in enumerate(base_rows()):
        city = '"Washington, D.C."' if i % 2 else '"Portland, ""the Rose City"""'
        address = '"12 Main St\nFloor 2"' if i % 3 == 0 else '"1 Side Rd"'
        quoted.append([str(size), city, address, label])
    write("quoted_commas_newlines.csv", lines(quoted))
    write("trailing_delimiters.csv", lines([row + [""] for row in good]))
    write("duplicate_headers.csv", lines([["size", "size", "colour", "label"], *[[r[0], r[1], r[2], r[3]] for r in good[1:]]]))
    ragged = [list(r) for r in good]
    for index in (10, 20, 30):
        ragged[index] = ragged[index] + ["oops"]
    for index in (40, 50):
        ragged[index] = ragged[index][:2]
    write("ragged_few_rows.csv", lines(ragged))
    shifted = [good[0]] + [r + ["extra"] if i % 3 == 0 else r for i, r in enumerate(good[1:])]
    write("ragged_many_rows.csv", lines(shifted))
    unclosed = [list(r) for r in good]
    unclosed[6][2] = '"red'
    write("unclosed_quote.csv", lines(unclosed))
    write("blank_and_empty_rows.csv", lines(good[:30]) + "\n\n,,,\n" + lines(good[30:]) + ",,,\n , , , \n")
    write("old_mac_line_endings.csv", lines(good, ",", "\r"))
    write("excel_sep_line.csv", "sep=;\n" + lines(table(";", ","), ";"))
    write("no_header_row.csv", lines([[r[0], r[1], "1" if r[3] == "big" else "0"] for r in good[1:]]))
    placeholder = [list(r) for r in good]
    for index in (3, 9, 27, 81):
        placeholder[index][1] = "?"
    placeholder[12][1] = "n/a"
    write("placeholders_in_numbers.csv", lines(placeholder))
    thousands = [["income", "colour", "label"]] + [[f'"{1000 + 37 * i:,}.50"', r[2], r[3]] for i, r in enumerate(good[1:])]
    write("thousands_separators.csv", lines(thousands))
    write("spaces_after_delimiters.csv", lines(good, ", "))
    # ---------------------------------------------------------------- not CSV at all
    write("excel_workbook_renamed.csv", xlsx())
    write("old_excel_renamed.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(rng().integers(0, 256, 2000, dtype=np.uint8)))
    write("pdf_renamed.csv", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")
    write("gzip_compressed.csv", gzip.compress(lines(good).encode(), mtime=0))
    write("binary_noise.csv", bytes(rng().integers(0, 256, 4000, dtype=np.uint8)))
    write("web_page.csv", "<!DOCTYPE html>\n<html><head><title>Download</title></head><body>Sign in to download</body></html>\n")
    write("json_records.csv", json.dumps([{"size": r[0], "label": r[3]} for r in good[1:10]], indent=1))
    write("empty.csv", "")
    write("header_only.csv", "size,weight,colour,label\n")
    write("single_column.csv", lines([["label"], *[[r[3]] for r in good[1:]]]))
    # ---------------------------------------------------------------- columns
    infinite = [list(r) for r in good]
    infinite[5][0], infinite[6][0], infinite[7][0] = "inf", "-inf", "Infinity"
    write("infinite_values.csv", lines(infinite))
    flags = [["size", "member", "smoker", "label"]] + [
        [r[0], ("TRUE", "FALSE", "")[i % 3], ("yes", "no")[i % 2], r[3]] for i, r in enumerate(good[1:])
    ]
    write("booleans.csv", lines(flags))
    days = np.datetime64("2024-01-01") + np.arange(ROWS) * 3
    pairs = list(zip(days, good[1:], strict=True))
    write("iso_dates.csv", lines([["signup", "size", "label"]] + [[str(d), r[0], r[3]] for d, r in pairs]))
    dayfirst = [[d.astype(object).strftime("%d.%m.%Y"), r[0], r[3]] for d, r in pairs]
    write("day_first_dates.csv", lines([["datum", "size", "label"], *dayfirst]))
    ids = [["", "customer_id", "size", "colour", "label"]]
    ids += [[str(i), str(10_000 + 7 * i), r[0], r[2], r[3]] for i, r in enumerate(good[1:])]
    write("id_columns.csv", lines(ids))
    write(
        "constant_and_empty_columns.csv",
        lines([["size", "country", "notes", "colour", "label"]] + [[r[0], "NZ", "", r[2], r[3]] for r in good[1:]]),
    )
    words = ["great", "awful", "fine", "slow", "fast", "cheap", "broken", "lovely", "meh", "superb"]
    reviews = [f'"{words[i % 10]} product, {words[(i * 7) % 10]} delivery, order {i}"' for i in range(ROWS)]
    rated = [[r[0], t, r[3]] for t, r in zip(reviews, good[1:], strict=True)]
    write("free_text_column.csv", lines([["size", "review", "label"], *rated]))
    towns = [f"town{i % 60:02d}" for i in range(600)]
    many = [["size", "town", "label"]] + [[f"{i * 37 % 101}", t, "a" if i * 37 % 101 < 50 else "b"] for i, t in enumerate(towns)]
    write("many_categories.csv", lines(many))
    leak = [["size", "verdict", "label"]] + [[r[0], r[3], r[3]] for r in good[1:]]
    write("target_copy_in_features.csv", lines(leak))
    only_id = [["id", "label"]] + [[str(i), r[3]] for i, r in enumerate(good[1:])]
    write("only_an_id_besides_target.csv", lines(only_id))
    nasty = ["**bold** <b>x</b>", "=cmd|' /C calc'!A0", "[link](http://evil.example)", "label"]
    formulas = [nasty] + [[r[0], ("=1+2", "@SUM(A1)", "+x", "-y")[i % 4], r[2], r[3]] for i, r in enumerate(good[1:])]
    write("markdown_and_formula_names.csv", lines(formulas))
    # ---------------------------------------------------------------- targets
    gaps = [list(r) for r in good]
    for index in (2, 4, 8, 16, 32, 64, 100):
        gaps[index][3] = ""
    write("target_missing_values.csv", lines(gaps))
    write("target_single_class.csv", lines([good[0]] + [r[:3] + ["yes"] for r in good[1:]]))
    people = [[r[0], r[2], f"person {i}"] for i, r in enumerate(good[1:])]
    write("target_one_value_per_row.csv", lines([["size", "colour", "name"], *people]))
    rare = [list(r) for r in good]
    rare[5][3] = rare[77][3] = "huge"
    write("target_rare_class.csv", lines(rare))
    quality = [["alcohol", "acidity", "quality"]] + [
        [f"{9 + (i % 40) / 10:.1f}", f"{(i * 13) % 17 / 10:.2f}", str(3 + (i * 7) % 6)] for i in range(ROWS)
    ]
    write("target_few_whole_numbers.csv", lines(quality))
    write("target_is_dates.csv", lines([["size", "when"]] + [[r[0], str(d)] for r, d in zip(good[1:], days, strict=True)]))


if __name__ == "__main__":
    main()
