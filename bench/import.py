"""Customer import benchmark: a generated GBK CSV imported on SQLite and on PostgreSQL.

    .venv/bin/python bench/import.py                 # 1,000,000 rows, both databases
    .venv/bin/python bench/import.py --rows 100000 --db sqlite

The file has Chinese headers and realistic mess: 5 % bad rows (no name, a number Excel
damaged, an invalid number with no customer id, stray cells), 3 % duplicate rows (a
customer id seen earlier, with another number), numbers written in many ways (+86,
0086, spaces, dashes, full-width digits, landlines with area codes and extensions) and
birthdays in several Chinese formats. Each import runs in its own process on a fresh
database, so its peak memory (max RSS) is its own; then the same file is imported again
to show the second run changes nothing. Results go to bench/results/import.md and
bench/results/import.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PG_URL = "postgres://postgres@127.0.0.1:5432/calldeck_bench_import"

HEADERS = [
    "客户编号",
    "姓名",
    "性别",
    "手机",
    "电话",
    "邮箱",
    "出生日期",
    "城市",
    "价值等级",
    "持有产品",
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰红飞鹏辉建国志宇浩然晨雨欣怡子轩"
CITIES = [
    "北京",
    "上海",
    "广州",
    "深圳",
    "杭州",
    "成都",
    "武汉",
    "西安",
    "南京",
    "重庆",
    "天津",
    "苏州",
]
AREA = {"北京": "010", "上海": "021", "广州": "020", "深圳": "0755", "杭州": "0571", "成都": "028"}
PRODUCTS = ["信用卡", "储蓄卡", "理财", "基金", "保险", "房贷", "车贷"]
PREFIXES = [
    "138",
    "139",
    "136",
    "137",
    "135",
    "150",
    "151",
    "152",
    "158",
    "159",
    "186",
    "187",
    "188",
    "177",
    "199",
]
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _mobile(rng: random.Random, n: int) -> str:
    return f"{PREFIXES[n % len(PREFIXES)]}{n % 100_000_000:08d}"


def _written(rng: random.Random, mobile: str) -> str:
    style = rng.random()
    if style < 0.70:
        return mobile
    if style < 0.78:
        return f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}"
    if style < 0.85:
        return f"+86 {mobile[:3]}-{mobile[3:7]}-{mobile[7:]}"
    if style < 0.90:
        return "0086" + mobile
    if style < 0.95:
        return "86" + mobile
    return mobile.translate(FULLWIDTH)


def _birthday(rng: random.Random) -> str:
    y, m, d = rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28)
    style = rng.random()
    if style < 0.5:
        return f"{y}-{m:02d}-{d:02d}"
    if style < 0.75:
        return f"{y}/{m}/{d}"
    if style < 0.9:
        return f"{y}年{m}月{d}日"
    return f"{y}{m:02d}{d:02d}"


def generate(path: Path, rows: int, seed: int = 4) -> dict[str, int]:
    rng = random.Random(seed)
    bad = duplicate = 0
    issued: list[int] = []
    with open(path, "w", encoding="gbk", newline="") as out:
        out.write(",".join(HEADERS) + "\r\n")
        for i in range(rows):
            roll = rng.random()
            if roll < 0.05:
                bad += 1
                n = 90_000_000 + i
                kind = i % 4
                if kind == 0:  # a new customer without a name
                    cells = [f"K{n:09d}", "", "男", _mobile(rng, n), "", "", "", "", "", ""]
                elif kind == 1:  # no customer id, and Excel damaged the only number
                    cells = [
                        "",
                        "某某",
                        "女",
                        f"1.{rng.randint(10000, 99999)}E+10",
                        "",
                        "",
                        "",
                        "",
                        "",
                        "",
                    ]
                elif kind == 2:  # no customer id, invalid number
                    cells = ["", "某某", "女", f"{rng.randint(100, 99999)}", "", "", "", "", "", ""]
                else:  # stray cells past the header
                    cells = [
                        f"K{n:09d}",
                        "某某",
                        "男",
                        _mobile(rng, n),
                        "",
                        "",
                        "",
                        "",
                        "",
                        "",
                        "多余",
                        "列",
                    ]
            elif roll < 0.08 and issued:
                duplicate += 1
                n = issued[rng.randrange(len(issued))]
                cells = [f"K{n:09d}", "", "", _mobile(rng, n + 7), "", "", "", "", "", "理财"]
            else:
                n = i
                issued.append(n)
                city = CITIES[n % len(CITIES)]
                name = (
                    SURNAMES[n % len(SURNAMES)]
                    + GIVEN[(n // 7) % len(GIVEN)]
                    + (GIVEN[(n // 11) % len(GIVEN)] if n % 3 else "")
                )
                phone = ""
                if city in AREA and rng.random() < 0.15:
                    phone = f"{AREA[city]}-{rng.randint(2000_0000, 8999_9999)}"
                    if rng.random() < 0.3:
                        phone += f"转{rng.randint(100, 999)}"
                email = f"u{n}@example.com" if rng.random() < 0.3 else ""
                cells = [
                    f"K{n:09d}",
                    name,
                    "男" if n % 2 else "女",
                    _written(rng, _mobile(rng, n)),
                    phone,
                    email,
                    _birthday(rng),
                    city,
                    "高中低"[n % 3],
                    PRODUCTS[n % len(PRODUCTS)] if n % 4 == 0 else "",
                ]
            out.write(",".join(cells) + "\r\n")
    return {"rows": rows, "bad": bad, "duplicate": duplicate}


def _env(db: str, var: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        CALLDECK_DEMO="true",
        DEBUG="false",
        CALLDECK_VAR_DIR=str(var),
        DJANGO_SETTINGS_MODULE="calldeck.settings",
        LOG_LEVEL="WARNING",
    )
    env.pop("DATABASE_URL", None)
    if db == "postgresql":
        env["DATABASE_URL"] = PG_URL
    return env


def _prepare(db: str, var: Path) -> None:
    if db == "postgresql":
        for sql in (
            "DROP DATABASE IF EXISTS calldeck_bench_import",
            "CREATE DATABASE calldeck_bench_import",
        ):
            subprocess.run(
                ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc", sql],
                check=True,
            )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=_env(db, var),
        check=True,
    )


def _child(path: str) -> None:
    """Run one import in this process and print its figures as JSON."""
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from calldeck.accounts.models import Client
    from calldeck.customers.importing import import_file
    from calldeck.customers.models import Customer, PhoneNumber

    client, _ = Client.objects.get_or_create(code="bench", defaults={"name": "Bench"})
    with open(path + ".report.csv", "w", encoding="utf-8") as report:
        started = time.perf_counter()
        result = import_file(client=client, path=path, report=report)
        seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "seconds": round(seconds, 2),
                "peak_mib": round(peak_kib / 1024, 1),
                "summary": result.summary,
                "customers": Customer.objects.count(),
                "phones": PhoneNumber.objects.count(),
                "report_lines": len(
                    Path(path + ".report.csv").read_text(encoding="utf-8").splitlines()
                )
                - 1,
            },
            ensure_ascii=False,
        )
    )


def _run(db: str, var: Path, path: Path) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(path)],
        cwd=ROOT,
        env=_env(db, var),
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        sys.exit(f"{db} import failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", default=str(RESULTS / "import.md"))
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    sys.path.insert(0, str(ROOT))
    goals = {"sqlite": 30.0, "postgresql": 20.0}
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    with tempfile.TemporaryDirectory(prefix="calldeck-bench-import-") as tmp:
        path = Path(tmp) / "customers-gbk.csv"
        started = time.perf_counter()
        made = generate(path, args.rows)
        print(
            f"generated {args.rows:,} rows ({path.stat().st_size / 1e6:.0f} MB) "
            f"in {time.perf_counter() - started:.1f} s: {made}"
        )
        results: dict[str, dict[str, object]] = {}
        for db in dbs:
            var = Path(tmp) / db
            var.mkdir()
            _prepare(db, var)
            first = _run(db, var, path)
            print(
                f"{db}: first import {first['seconds']} s, peak {first['peak_mib']} MiB, "
                f"{json.dumps(first['summary'], ensure_ascii=False)}"
            )
            second = _run(db, var, path)
            print(
                f"{db}: second import {second['seconds']} s, "
                f"{json.dumps(second['summary'], ensure_ascii=False)}"
            )
            results[db] = {"first": first, "second": second, "goal_seconds": goals[db]}
    RESULTS.mkdir(parents=True, exist_ok=True)
    record = {
        "rows": args.rows,
        "file": made,
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "results": results,
    }
    Path(args.out).with_suffix(".json").write_text(
        json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    Path(args.out).write_text(_markdown(record), encoding="utf-8")
    print(f"wrote {args.out}")


def _markdown(record: dict[str, object]) -> str:
    made = record["file"]
    lines = [
        "# Customer import benchmark",
        "",
        f"`.venv/bin/python bench/import.py --rows {record['rows']}` on {record['machine']}.",
        "",
        f"A generated GBK CSV of {made['rows']:,} rows: {made['bad']:,} bad rows (5 %), "  # type: ignore[index]
        f"{made['duplicate']:,} duplicate rows (3 %), numbers and birthdays written in "  # type: ignore[index]
        "many ways. Each import runs in its own process on a fresh database; the second "
        "import of the same file must change nothing.",
        "",
        "| database | first import | goal | peak memory (goal < 1024 MiB) | created | merged "
        "| rejected | warnings | second import | second: created / updated |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for db, r in record["results"].items():  # type: ignore[attr-defined]
        first, second = r["first"], r["second"]
        s1, s2 = first["summary"], second["summary"]
        met = "met" if first["seconds"] < r["goal_seconds"] else "NOT met"
        lines.append(
            f"| {db} | {first['seconds']} s | < {r['goal_seconds']:.0f} s ({met}) | "
            f"{first['peak_mib']} MiB | {s1['created']:,} | {s1['merged']:,} | "
            f"{sum(s1['rejected'].values()):,} | {sum(s1['warnings'].values()):,} | "
            f"{second['seconds']} s | {s2['created']} / {s2['updated']} |"
        )
    lines += ["", "Rejected and warned, by reason (first import):", ""]
    for db, r in record["results"].items():  # type: ignore[attr-defined]
        s1 = r["first"]["summary"]
        lines.append(
            f"- {db}: rejected {json.dumps(s1['rejected'], ensure_ascii=False)}; "
            f"warnings {json.dumps(s1['warnings'], ensure_ascii=False)}; "
            f"report lines {r['first']['report_lines']:,}"
        )
    lines += [
        "",
        "## Where the time goes",
        "",
        "- A helper process reads and cleans the file (about 15 s of CPU for a million rows)",
        "  while the importing process matches and writes; on two cores they overlap.",
        "- SQLite: about 15 s of the import is SQLite inserting 2.5 million rows (customers,",
        "  numbers, e-mails, holdings) with their indexes, inside the importing process.",
        "- PostgreSQL (this machine's server as installed: shared_buffers 128 MB): the COPY",
        "  of the same rows takes 16-20 s of server time, and the commit about 9 s more,",
        "  because Django's foreign keys are deferred and checked at commit, one row at a",
        "  time. The server, the importing process and the cleaning process share two cores.",
        "  The 20 s goal is not met; what would close the gap is server tuning (shared",
        "  buffers, WAL size) or staging the rows and merging them in SQL, not faster Python.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
