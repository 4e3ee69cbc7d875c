"""Write the demo import files: ``customers-demo-gbk.csv`` and ``customers-demo.xlsx``.

Run ``.venv/bin/python calldeck/customers/demo_files/make_demo_files.py``; the seed is
fixed, so the files come out the same every time and are committed beside this script.
Both hold the same 200 rows as a bank's export would: Chinese headers, the CSV in GBK
(as Excel saves it on Chinese Windows), and a few rows that the import must report
rather than take: a mobile number Excel turned into 1.38001E+10, invalid numbers, a new
customer without a name, a customer listed twice, an unreadable date.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

import openpyxl

SEED = 20261125
ROWS = 200
HERE = Path(__file__).resolve().parent
HEADERS = [
    "客户编号",
    "姓名",
    "性别",
    "手机",
    "电话",
    "邮箱",
    "出生日期",
    "城市",
    "持有产品",
    "客户价值",
    "备注",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛"]
CITIES = ["北京", "上海", "广州", "深圳", "杭州", "南京", "成都", "武汉", "西安", "苏州"]
AREA = {"北京": "010", "上海": "021", "广州": "020", "深圳": "0755", "杭州": "0571"}
PREFIXES = ["138", "139", "136", "150", "151", "158", "186", "187", "188", "135"]
PRODUCTS = ["信用卡", "理财", "定期存款", "基金", "保险"]
TIERS = ["高", "中", "低"]


def _rows(rng: random.Random) -> list[list[str]]:
    rows: list[list[str]] = []
    for n in range(1, ROWS + 1):
        city = rng.choice(CITIES)
        born = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(0, 365 * 40))
        landline = ""
        if city in AREA and rng.random() < 0.3:
            landline = f"{AREA[city]}-{rng.randrange(60000000, 89999999)}"
        products = "、".join(rng.sample(PRODUCTS, rng.randrange(0, 3)))
        rows.append(
            [
                f"IMP{n:04d}",
                rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.randrange(1, 3))),
                rng.choice(["男", "女"]),
                rng.choice(PREFIXES) + f"{rng.randrange(0, 10**8):08d}",
                landline,
                f"user{n:04d}@example.com" if rng.random() < 0.4 else "",
                # Dates as bank exports write them, in several shapes.
                rng.choice([born.isoformat(), born.strftime("%Y/%m/%d"), f"{born:%Y年%m月%d日}"]),
                city,
                products,
                rng.choice(TIERS),
                "",
            ]
        )
    # The rows the import must report (each noted in its 备注 column).
    rows[11][3], rows[11][10] = "1.38001E+10", "Excel 科学计数法"
    rows[23][3], rows[23][10] = "12345", "号码无效"
    rows[37][3], rows[37][10] = "1380013800", "号码少一位"
    rows[52][1], rows[52][10] = "", "缺姓名"
    rows[66][6], rows[66][10] = "1990-13-45", "日期无效"
    rows[80][5], rows[80][10] = "wang@", "邮箱无效"
    duplicate = list(rows[5])
    duplicate[3] = rng.choice(PREFIXES) + f"{rng.randrange(0, 10**8):08d}"
    duplicate[10] = "重复行"
    rows.insert(120, duplicate)
    return rows


def main() -> None:
    rows = _rows(random.Random(SEED))
    with open(HERE / "customers-demo-gbk.csv", "w", encoding="gbk", newline="") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(HEADERS)
        writer.writerows(rows)
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "客户"
    sheet.append(HEADERS)
    for row in rows:
        # As typed in Excel: mobile numbers as numbers (the reader gives them back whole).
        cells: list[object] = list(row)
        if row[3].isdigit():
            cells[3] = int(row[3])
        sheet.append(cells)
    # A fixed creation time, so that the file's bytes do not change from run to run.
    book.properties.created = book.properties.modified = dt.datetime(2026, 1, 1)
    book.save(HERE / "customers-demo.xlsx")


if __name__ == "__main__":
    main()
