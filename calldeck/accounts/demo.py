"""The demo centre loaded by ``manage.py load_demo``.

A bank (示例银行) with two teams of three agents, one user per role: team 一组 previews
customers of the credit-card instalment campaign (2,000 customers), team 二组 takes the
calls a predictive dialer puts through for the wealth-products campaign (300 customers
of its own; ``make demo`` runs the dialer inside the web process); and a small insurer
(示例保险) with its own campaign, so that a bank user visibly sees nothing of the
insurer. Everything is generated from a fixed seed, so two loads on two machines give
the same customers and numbers.

Loading is idempotent: the bank's client code marks a loaded database, and a second load
only adds today's team assignments, which are per day and so run out overnight. Every load
also copies into the holiday table the days of the ``chinesecalendar`` package it lacks
(``campaigns.holidays``), so the demo's calling windows follow the public holidays.
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

import phonenumbers
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from calldeck.accounts.models import Client, Role, Team, TeamMembership, User
from calldeck.callscripts.models import Script, ScriptVersion
from calldeck.campaigns.defaults import (
    disposition_set_create_standard,
    retry_rules_create_standard,
)
from calldeck.campaigns.demo_daily import (
    DAILY_CAMPAIGN_NAME,
    daily_campaign_demo_build,
    daily_campaign_demo_create,
)
from calldeck.campaigns.holidays import holidays_load
from calldeck.campaigns.models import (
    CallingWindow,
    Campaign,
    CampaignAssignment,
    CampaignKind,
    CampaignLead,
    CampaignStatus,
    DialMode,
    LeadStatus,
    Offer,
)
from calldeck.customers.demo import customer_data_demo_create
from calldeck.customers.models import (
    BlockKind,
    ContactBlock,
    Customer,
    EmailAddress,
    Gender,
    PhoneKind,
    PhoneNumber,
    ValueTier,
    VipLevel,
)

DEMO_CLIENT_CODE = "demo-bank"
DEMO_CLIENT_NAME = "示例银行"
INSURER_CLIENT_CODE = "demo-insurer"
INSURER_CLIENT_NAME = "示例保险"
DEMO_PASSWORD = "calldeck-demo"  # noqa: S105 - printed to the user on purpose
DEMO_SEED = 20180326
BANK_CUSTOMERS = 2000
INSURER_CUSTOMERS = 60
BANK_CAMPAIGN_NAME = "信用卡分期专项营销"
WEALTH_CUSTOMERS = 300
WEALTH_CAMPAIGN_NAME = "理财产品外呼"
# Which team works which bank campaign every day.
TEAM_CAMPAIGNS = {"一组": BANK_CAMPAIGN_NAME, "二组": WEALTH_CAMPAIGN_NAME}
# Team 一组 also calls the day's birthday list, after its main campaign.
TEAM_SECOND_CAMPAIGNS = {"一组": DAILY_CAMPAIGN_NAME}
INSURER_CAMPAIGN_NAME = "驾乘意外险推广"
BATCH = 500

MSG_CONFLICT = (
    "The database already holds {what} that the demo would create, but no demo client "
    "'{code}'. Load the demo into an empty database."
)


class DemoConflict(Exception):
    pass


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: Role
    display_name: str
    team: str = ""
    employee_no: str = ""


TEAM_NAMES = ("一组", "二组")

STAFF = [
    DemoUser("admin_data", Role.DATA_ADMIN, "赵敏", employee_no="D001"),
    DemoUser("manager", Role.CAMPAIGN_MANAGER, "陈静", employee_no="M001"),
    DemoUser("supervisor", Role.SUPERVISOR, "周强", employee_no="S001"),
    DemoUser("qa", Role.QA, "吴婷", employee_no="Q001"),
    DemoUser("am", Role.ACCOUNT_MANAGER, "郑浩", employee_no="K001"),
    DemoUser("branch", Role.BRANCH_MANAGER, "孙立", employee_no="B001"),
]
AGENTS = [
    DemoUser("agent1", Role.AGENT, "王芳", "一组", "TSR001"),
    DemoUser("agent2", Role.AGENT, "李娜", "一组", "TSR002"),
    DemoUser("agent3", Role.AGENT, "张伟", "一组", "TSR003"),
    DemoUser("agent4", Role.AGENT, "刘洋", "二组", "TSR004"),
    DemoUser("agent5", Role.AGENT, "陈磊", "二组", "TSR005"),
    DemoUser("agent6", Role.AGENT, "杨丽", "二组", "TSR006"),
]
OPERATOR = DemoUser("ops", Role.DATA_ADMIN, "运维管理员")

# Surnames roughly in order of frequency, with pinyin for e-mail addresses.
SURNAMES = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"),
    ("杨", "yang"), ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"),
    ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"), ("胡", "hu"),
    ("郭", "guo"), ("何", "he"), ("高", "gao"), ("林", "lin"), ("罗", "luo"),
    ("郑", "zheng"), ("梁", "liang"), ("谢", "xie"), ("宋", "song"), ("唐", "tang"),
    ("许", "xu"), ("韩", "han"), ("冯", "feng"), ("邓", "deng"), ("曹", "cao"),
    ("彭", "peng"), ("曾", "zeng"), ("肖", "xiao"), ("田", "tian"), ("董", "dong"),
    ("袁", "yuan"), ("潘", "pan"), ("于", "yu"), ("蒋", "jiang"), ("蔡", "cai"),
    ("余", "yu"), ("杜", "du"), ("叶", "ye"), ("程", "cheng"), ("苏", "su"),
    ("魏", "wei"), ("吕", "lv"), ("丁", "ding"), ("任", "ren"), ("沈", "shen"),
    ("姚", "yao"), ("卢", "lu"), ("姜", "jiang"), ("崔", "cui"), ("钟", "zhong"),
    ("谭", "tan"), ("陆", "lu"), ("汪", "wang"), ("范", "fan"), ("金", "jin"),
    ("欧阳", "ouyang"), ("司马", "sima"),
]  # fmt: skip
# Given names: one character, or a leading character and one of these.
GIVEN_FEMALE = ["芳", "娜", "敏", "静", "丽", "艳", "婷", "雪", "慧", "琳", "颖", "玲",
                "洁", "倩", "梅", "丹", "萍", "燕", "霞", "欣", "怡", "佳", "蕾", "璐"]  # fmt: skip
GIVEN_MALE = ["伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "刚", "平",
              "辉", "鹏", "华", "飞", "斌", "宇", "浩", "俊", "凯", "峰", "晨", "阳"]  # fmt: skip
GIVEN_LEAD = ["晓", "子", "嘉", "思", "雨", "志", "文", "建", "海", "国", "春", "梓",
              "一", "天", "永", "世", "家", "立", "红", "亚"]  # fmt: skip

# (city, region, landline area code without the trunk 0)
CITIES = [
    ("北京", "北京市", "10"), ("上海", "上海市", "21"), ("广州", "广东省", "20"),
    ("深圳", "广东省", "755"), ("杭州", "浙江省", "571"), ("南京", "江苏省", "25"),
    ("苏州", "江苏省", "512"), ("成都", "四川省", "28"), ("重庆", "重庆市", "23"),
    ("武汉", "湖北省", "27"), ("西安", "陕西省", "29"), ("天津", "天津市", "22"),
    ("长沙", "湖南省", "731"), ("郑州", "河南省", "371"), ("沈阳", "辽宁省", "24"),
    ("青岛", "山东省", "532"),
]  # fmt: skip
# Big cities weigh more, as they do in a bank's card base.
CITY_WEIGHTS = [14, 13, 10, 10, 6, 6, 5, 6, 5, 5, 4, 4, 3, 3, 3, 3]
MOBILE_PREFIXES = ["138", "139", "150", "151", "186", "187", "135", "177", "199"]
EMAIL_DOMAINS = ["example.com", "example.net", "example.org"]  # reserved: never delivered

# VIP customers hold gold cards and above; they belong to the account manager.
VIP_SHARE = 0.04
VIP_CARDS = {VipLevel.GOLD: "金卡", VipLevel.PLATINUM: "白金卡", VipLevel.DIAMOND: "钻石卡"}
TIER_WEIGHTS = {ValueTier.LOW: 40, ValueTier.MEDIUM: 45, ValueTier.HIGH: 15}
VIP_LIMITS = [100_000, 200_000, 500_000]
TIER_LIMITS = {
    ValueTier.LOW: [5_000, 8_000, 10_000],
    ValueTier.MEDIUM: [15_000, 20_000, 30_000],
    ValueTier.HIGH: [50_000, 80_000],
}

BANK_SCRIPT = """【开场】
您好，请问是{{ customer.name }}吗？我是示例银行信用卡中心的{{ agent.name }}。\
今天给您来电，是想告诉您一项您专享的用卡优惠，耽误您两分钟可以吗？

【需求探询】
请问您最近一期的账单金额是不是比平时高一些？平时会不会遇到几笔大额消费集中在同一个月还款的情况？\
（倾听客户的回答，确认有无装修、旅游、教育、大件家电等大额支出。）

【定位推荐】
根据您的用卡记录，您符合我行「{{ offer.name }}」的办理条件：本期账单可以分 3、6、12 或 24 期还款，\
每期手续费率低至 0.60%，办理后下一期账单生效，不占用额外额度，也不影响您的信用记录。

【检查核定】
和您核对一下：您希望把本期账单分成几期？每期还款金额大约是多少，您看是否合适？

【化解分歧】
如果客户说“手续费太贵”：和一次性还款相比，分期让您每个月的现金更宽裕，以 12 期为例，\
每月只需还一小部分，手续费按期收取，提前还款也很方便。
如果客户说“我再考虑一下”：没问题，我稍后把分期试算结果用短信发给您，您随时可以回复办理。

【成交】
那我现在就为您办理「{{ offer.name }}」好吗？为了您的账户安全，需要和您核对一下身份证号码的后四位。

【谢客】
已经为您办理好了，次月账单会显示分期明细。感谢您对示例银行的支持，祝您生活愉快，再见！
"""

INSURER_SCRIPT = """【开场】
您好，请问是{{ customer.name }}吗？我是示例保险的服务专员，打扰您一分钟。

【推荐】
我们为老客户准备了「{{ offer.name }}」，每年只需 199 元，自驾、乘车出行都有保障。

【成交】
需要我现在为您登记投保吗？

【谢客】
感谢您的接听，祝您出行平安，再见！
"""


@dataclass
class Person:
    """A generated customer, before it is written."""

    key: str
    name: str
    gender: str
    birthday: dt.date
    city: str
    region: str
    value_tier: str
    vip_level: str
    attributes: dict[str, object]
    mobiles: list[str]
    home: str = ""
    email: str = ""
    wechat_id: str = ""


@dataclass
class DemoLoadResult:
    created: bool
    assignments_created: int
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    holidays_added: int = 0


def _valid(e164: str) -> bool:
    return phonenumbers.is_valid_number(phonenumbers.parse(e164, None))


def _mobile(rng: random.Random, used: set[str]) -> str:
    while True:
        number = f"+86{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"
        if number not in used and _valid(number):
            used.add(number)
            return number


def _landline(rng: random.Random, area: str, used: set[str]) -> str:
    # Local numbers are 8 digits starting 2–8 in the cities above (7 or 8 in a few);
    # anything the numbering plan does not allow is simply drawn again.
    for _attempt in range(50):
        length = 8 if len(area) == 2 else rng.choice((7, 8))
        local = str(rng.randint(2, 8)) + "".join(str(rng.randrange(10)) for _ in range(length - 1))
        number = f"+86{area}{local}"
        if number not in used and _valid(number):
            used.add(number)
            return number
    return ""


def _name(rng: random.Random, gender: str) -> tuple[str, str]:
    surname, pinyin = rng.choices(SURNAMES, weights=range(len(SURNAMES) + 1, 1, -1))[0]
    pool = GIVEN_FEMALE if gender == Gender.FEMALE else GIVEN_MALE
    given = rng.choice(pool)
    if rng.random() < 0.7:
        given = rng.choice(GIVEN_LEAD + pool) + given
    return surname + given, pinyin


def people_generate(
    rng: random.Random, count: int, *, key_prefix: str, used: set[str], bank: bool
) -> list[Person]:
    """``count`` customers; for the bank, credit-card attributes and a few VIPs."""
    people = []
    first_birthday = dt.date(1958, 1, 1).toordinal()
    last_birthday = dt.date(2003, 12, 31).toordinal()
    for n in range(1, count + 1):
        roll = rng.random()
        gender = Gender.FEMALE if roll < 0.49 else Gender.MALE if roll < 0.98 else Gender.UNKNOWN
        name, pinyin = _name(rng, gender or rng.choice([Gender.FEMALE, Gender.MALE]))
        birthday = dt.date.fromordinal(rng.randint(first_birthday, last_birthday))
        city, region, area = rng.choices(CITIES, weights=CITY_WEIGHTS)[0]
        tier = rng.choices(list(TIER_WEIGHTS), weights=list(TIER_WEIGHTS.values()))[0]
        vip = ""
        if bank and rng.random() < VIP_SHARE:
            tier = ValueTier.HIGH
            vip = rng.choices(list(VIP_CARDS), weights=[70, 25, 5])[0]
        attributes: dict[str, object]
        if bank:
            limit = rng.choice(VIP_LIMITS if vip else TIER_LIMITS[tier])
            attributes = {
                "card_level": VIP_CARDS[VipLevel(vip)] if vip else rng.choice(["普卡", "青春卡"]),
                "credit_limit": limit,
                "monthly_bill": int(rng.uniform(0.05, 0.8) * limit) // 10 * 10,
                "card_since": rng.randint(max(2008, birthday.year + 20), 2025),
                "has_instalment": rng.random() < 0.2,
            }
        else:
            attributes = {
                "policy": rng.choice(["车险", "健康险", "寿险"]),
                "renewal_month": rng.randint(1, 12),
            }
        mobiles = [_mobile(rng, used)]
        if rng.random() < 0.25:
            mobiles.append(_mobile(rng, used))
        person = Person(
            key=f"{key_prefix}{n:06d}",
            name=name,
            gender=gender,
            birthday=birthday,
            city=city,
            region=region,
            value_tier=tier,
            vip_level=vip,
            attributes=attributes,
            mobiles=mobiles,
        )
        if rng.random() < 0.3:
            person.home = _landline(rng, area, used)
        if rng.random() < 0.35:
            person.email = f"{pinyin}{rng.randint(1, 9999)}@{rng.choice(EMAIL_DOMAINS)}"
        if rng.random() < 0.5:
            person.wechat_id = f"wx_{pinyin}{rng.randrange(10**6):06d}"
        people.append(person)
    return people


def _customers_write(
    client: Client, people: list[Person], *, account_manager: User | None
) -> list[Customer]:
    customers = Customer.objects.bulk_create(
        [
            Customer(
                client=client,
                customer_key=p.key,
                name=p.name,
                gender=p.gender,
                birthday=p.birthday,
                region=p.region,
                city=p.city,
                wechat_id=p.wechat_id,
                value_tier=p.value_tier,
                vip_level=p.vip_level,
                account_manager=account_manager if p.vip_level else None,
                attributes=p.attributes,
            )
            for p in people
        ],
        batch_size=BATCH,
    )
    phones = []
    emails = []
    for customer, p in zip(customers, people, strict=True):
        for i, e164 in enumerate(p.mobiles):
            phones.append(
                PhoneNumber(customer=customer, e164=e164, kind=PhoneKind.MOBILE, position=i)
            )
        if p.home:
            phones.append(
                PhoneNumber(
                    customer=customer, e164=p.home, kind=PhoneKind.HOME, position=len(p.mobiles)
                )
            )
        if p.email:
            emails.append(EmailAddress(customer=customer, address=p.email, is_primary=True))
    PhoneNumber.objects.bulk_create(phones, batch_size=BATCH)
    EmailAddress.objects.bulk_create(emails, batch_size=BATCH)
    return customers


def _leads_load(campaign: Campaign, customers: list[Customer], *, now: dt.datetime) -> None:
    # VIP / account-manager customers are theirs and never enter a general campaign.
    CampaignLead.objects.bulk_create(
        [
            CampaignLead(
                campaign=campaign,
                customer=c,
                status=LeadStatus.NEW,
                # High-value customers first, as a bank would dial them.
                priority=1 if c.value_tier == ValueTier.HIGH else 0,
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
            for c in customers
            if not c.is_reserved_for_account_manager
        ],
        batch_size=BATCH,
    )


def _user_create(
    spec: DemoUser, clients: list[Client], *, password_hash: str, superuser: bool = False
) -> User:
    user = User(
        username=spec.username,
        role=spec.role,
        display_name=spec.display_name,
        employee_no=spec.employee_no,
        password=password_hash,
        is_staff=superuser,
        is_superuser=superuser,
    )
    user.save()
    user.clients.set(clients)
    return user


def _windows_create(campaign: Campaign, start: dt.time, end: dt.time) -> None:
    CallingWindow.objects.bulk_create(
        CallingWindow(campaign=campaign, weekday=day, start=start, end=end) for day in range(7)
    )


def _check_empty() -> None:
    usernames = [u.username for u in [*STAFF, *AGENTS, OPERATOR]]
    clash = list(User.objects.filter(username__in=usernames).values_list("username", flat=True))
    clash += list(Team.objects.filter(name__in=TEAM_NAMES).values_list("name", flat=True))
    clash += list(Client.objects.filter(code=INSURER_CLIENT_CODE).values_list("code", flat=True))
    if clash:
        raise DemoConflict(
            MSG_CONFLICT.format(what=", ".join(sorted(clash)), code=DEMO_CLIENT_CODE)
        )


def _bank_create(*, today: dt.date, now: dt.datetime, rng: random.Random, used: set[str]) -> None:
    bank = Client.objects.create(code=DEMO_CLIENT_CODE, name=DEMO_CLIENT_NAME)
    # One Argon2 hash for all: each takes a good part of a second, every demo login has
    # the same published password, so per-user salts would hide nothing.
    password_hash = make_password(DEMO_PASSWORD)
    users = {
        u.username: _user_create(u, [bank], password_hash=password_hash) for u in [*STAFF, *AGENTS]
    }
    _user_create(OPERATOR, [], password_hash=password_hash, superuser=True)
    supervisor, manager = users["supervisor"], users["manager"]

    teams = {name: Team.objects.create(name=name, supervisor=supervisor) for name in TEAM_NAMES}
    TeamMembership.objects.bulk_create(
        TeamMembership(
            team=teams[a.team], user=users[a.username], valid_from=today - dt.timedelta(days=30)
        )
        for a in AGENTS
    )

    offer = Offer.objects.create(
        client=bank,
        code="card-instalment",
        name="信用卡账单分期",
        description="本期账单可分 3/6/12/24 期还款，每期手续费率 0.60% 起，次月账单生效。",
        # Average amount put on instalments; the bank earns the fees on it.
        price=Decimal("8000.00"),
        margin_rate=Decimal("0.0720"),
    )
    script = Script.objects.create(client=bank, name="信用卡账单分期话术")
    ScriptVersion.objects.create(script=script, number=1, body=BANK_SCRIPT, created_by=manager)
    campaign = Campaign.objects.create(
        client=bank,
        name=BANK_CAMPAIGN_NAME,
        description="面向普卡、青春卡持卡人的账单分期专项外呼；金卡及以上客户由客户经理维护，不在名单内。",
        kind=CampaignKind.SPECIAL,
        dial_mode=DialMode.PREVIEW,
        status=CampaignStatus.ACTIVE,
        offer=offer,
        script=script,
        disposition_set=disposition_set_create_standard(client=bank),
        preview_fields=["gender", "city", "value_tier", "birthday"],
        starts_on=today - dt.timedelta(days=7),
        ends_on=today + dt.timedelta(days=60),
        max_attempts=5,
        target_success_rate_pct=Decimal("8.00"),
        target_sales=150,
        target_revenue=Decimal("1200000.00"),
        cost_agent_hour=Decimal("45.00"),
        cost_talk_minute=Decimal("0.12"),
        cost_message=Decimal("0.05"),
        cost_list=Decimal("2000.00"),
        cost_fixed=Decimal("5000.00"),
        created_by=manager,
    )
    retry_rules_create_standard(campaign=campaign)
    _windows_create(campaign, dt.time(8, 0), dt.time(21, 0))

    people = people_generate(rng, BANK_CUSTOMERS, key_prefix="B", used=used, bank=True)
    customers = _customers_write(bank, people, account_manager=users["am"])
    _leads_load(campaign, customers, now=now)

    # Blocked after loading: the leads stay in the list and the check at dial time keeps
    # them from being called. They go first, so the first agent's claim shows it.
    regular = [c for c in customers if not c.is_reserved_for_account_manager]
    blocks = [
        (regular[7], BlockKind.DO_NOT_CALL, "客户来电要求不再接收营销电话"),
        (regular[11], BlockKind.BLACKLIST, "多次投诉，列入黑名单"),
    ]
    ContactBlock.objects.bulk_create(
        ContactBlock(
            client=bank, customer=c, kind=kind, reason=reason, created_by=users["admin_data"]
        )
        for c, kind, reason in blocks
    )
    CampaignLead.objects.filter(campaign=campaign, customer__in=[c for c, _k, _r in blocks]).update(
        priority=9
    )


WEALTH_SCRIPT = (
    "您好，请问是{{ customer.name }}吗？我是示例银行财富顾问{{ agent.name }}。"
    "我行新发行的{{ offer.name }}，起购金额 1 万元，业绩比较基准 2.8%–3.2%，"
    "风险等级 R2。请问您近期有闲置资金的理财打算吗？"
)


def _wealth_create(
    *, bank: Client, today: dt.date, now: dt.datetime, rng: random.Random, used: set[str]
) -> None:
    """The predictive campaign: its own customers, dialed by the engine for team 二组."""
    manager = User.objects.get(username="manager")
    offer = Offer.objects.create(
        client=bank,
        code="wealth-180",
        name="稳享 180 天理财",
        description="180 天封闭期人民币理财产品，起购 1 万元，风险等级 R2。",
        price=Decimal("50000.00"),
        margin_rate=Decimal("0.0050"),
    )
    script = Script.objects.create(client=bank, name="理财产品外呼话术")
    ScriptVersion.objects.create(script=script, number=1, body=WEALTH_SCRIPT, created_by=manager)
    campaign = Campaign.objects.create(
        client=bank,
        name=WEALTH_CAMPAIGN_NAME,
        description="预测式外呼：拨号器自动拨打，接通后直接转给二组坐席，屏幕同时弹出客户和话术。",
        kind=CampaignKind.SPECIAL,
        dial_mode=DialMode.PREDICTIVE,
        status=CampaignStatus.ACTIVE,
        offer=offer,
        script=script,
        disposition_set=disposition_set_create_standard(client=bank),
        preview_fields=["gender", "city", "value_tier"],
        starts_on=today - dt.timedelta(days=3),
        ends_on=today + dt.timedelta(days=30),
        max_attempts=3,
        target_success_rate_pct=Decimal("4.00"),
        target_sales=10,
        cost_agent_hour=Decimal("45.00"),
        cost_talk_minute=Decimal("0.12"),
        created_by=manager,
    )
    retry_rules_create_standard(campaign=campaign)
    _windows_create(campaign, dt.time(8, 0), dt.time(21, 0))
    people = people_generate(rng, WEALTH_CUSTOMERS, key_prefix="W", used=used, bank=False)
    _leads_load(campaign, _customers_write(bank, people, account_manager=None), now=now)


# Bank customers in no campaign yet, two born on each day of the year, some with an
# account-opening anniversary: the daily birthday list has someone to call every day.
BIRTHDAY_PEOPLE = 732


def _birthday_people_create(*, bank: Client, rng: random.Random, used: set[str]) -> None:
    people = people_generate(rng, BIRTHDAY_PEOPLE, key_prefix="D", used=used, bank=False)
    for i, person in enumerate(people):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=i // 2)  # 2024 has a 29 February
        year = rng.randint(1960, 2000)
        try:
            person.birthday = day.replace(year=year)
        except ValueError:  # 29 February in a common year
            person.birthday = dt.date(year, 2, 28)
    customers = _customers_write(bank, people, account_manager=None)
    for i, customer in enumerate(customers):
        born = customer.birthday
        if i % 3 == 0 and born is not None:
            since_year = rng.randint(2008, 2020)
            customer.customer_since = born.replace(year=since_year, day=min(born.day, 28))
    Customer.objects.bulk_update(customers[::3], ["customer_since"])


def _insurer_create(
    *, today: dt.date, now: dt.datetime, rng: random.Random, used: set[str]
) -> None:
    insurer = Client.objects.create(code=INSURER_CLIENT_CODE, name=INSURER_CLIENT_NAME)
    offer = Offer.objects.create(
        client=insurer,
        code="drive-accident",
        name="驾乘意外险",
        description="一年期驾乘人员意外伤害保险，保费 199 元。",
        price=Decimal("199.00"),
        margin_rate=Decimal("0.3500"),
    )
    script = Script.objects.create(client=insurer, name="驾乘意外险话术")
    ScriptVersion.objects.create(script=script, number=1, body=INSURER_SCRIPT)
    campaign = Campaign.objects.create(
        client=insurer,
        name=INSURER_CAMPAIGN_NAME,
        kind=CampaignKind.SPECIAL,
        dial_mode=DialMode.PREVIEW,
        status=CampaignStatus.ACTIVE,
        offer=offer,
        script=script,
        disposition_set=disposition_set_create_standard(client=insurer),
        preview_fields=["gender", "city"],
        starts_on=today - dt.timedelta(days=7),
        ends_on=today + dt.timedelta(days=60),
        target_success_rate_pct=Decimal("5.00"),
        target_sales=3,
        target_revenue=Decimal("597.00"),
        cost_agent_hour=Decimal("40.00"),
        cost_talk_minute=Decimal("0.12"),
    )
    retry_rules_create_standard(campaign=campaign)
    _windows_create(campaign, dt.time(9, 0), dt.time(20, 0))
    people = people_generate(rng, INSURER_CUSTOMERS, key_prefix="I", used=used, bank=False)
    _leads_load(campaign, _customers_write(insurer, people, account_manager=None), now=now)


def assignments_ensure_today(*, today: dt.date) -> int:
    """Each team on its bank campaign today, priority 1; the number of rows added."""
    supervisor = User.objects.filter(username="supervisor").first()
    added = 0
    for team in Team.objects.filter(name__in=TEAM_NAMES):
        campaign = Campaign.objects.filter(
            client__code=DEMO_CLIENT_CODE, name=TEAM_CAMPAIGNS[team.name]
        ).first()
        if campaign is None:
            continue
        _assignment, created = CampaignAssignment.objects.get_or_create(
            campaign=campaign,
            team=team,
            day=today,
            defaults={"priority": 1, "daily_target": 240, "created_by": supervisor},
        )
        added += created
        second = TEAM_SECOND_CAMPAIGNS.get(team.name)
        daily = Campaign.objects.filter(client__code=DEMO_CLIENT_CODE, name=second).first()
        if second and daily is not None:
            _assignment, created = CampaignAssignment.objects.get_or_create(
                campaign=daily,
                team=team,
                day=today,
                defaults={"priority": 2, "created_by": supervisor},
            )
            added += created
    return added


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, role, password) of every demo login, in the order they are printed."""
    rows = []
    for u in [*STAFF, *AGENTS]:
        role = str(u.role.label)
        if u.team:
            role = f"{role} ({u.team}, {u.display_name})"
        elif u.username == "supervisor":
            role = f"{role} ({', '.join(TEAM_NAMES)})"
        rows.append((u.username, role, DEMO_PASSWORD))
    rows.append((OPERATOR.username, "superuser (/ops/admin/)", DEMO_PASSWORD))
    return rows


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def logins_table(rows: list[tuple[str, str, str]]) -> str:
    """A plain-text table that stays aligned with Chinese labels in a terminal."""
    header = ("username", "role", "password")
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(3)]

    def line(cells: tuple[str, str, str]) -> str:
        padded = (c + " " * (w - _width(c)) for c, w in zip(cells, widths, strict=True))
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)]) + "\n"


@transaction.atomic
def demo_load(*, seed: int = DEMO_SEED) -> DemoLoadResult:
    """Load the demo centre unless it is there; in any case assign today's work."""
    today = timezone.localdate()
    now = timezone.now()
    created = False
    if not Client.objects.filter(code=DEMO_CLIENT_CODE).exists():
        _check_empty()
        rng = random.Random(seed)
        used: set[str] = set()
        _bank_create(today=today, now=now, rng=rng, used=used)
        _insurer_create(today=today, now=now, rng=rng, used=used)
        # After the insurer, so the bank's and the insurer's customers stay as they were.
        bank = Client.objects.get(code=DEMO_CLIENT_CODE)
        _wealth_create(bank=bank, today=today, now=now, rng=rng, used=used)
        customer_data_demo_create(
            client=bank,
            admin=User.objects.get(username="admin_data"),
            manager=User.objects.get(username="manager"),
        )
        _birthday_people_create(bank=bank, rng=rng, used=used)
        daily_campaign_demo_create(
            client=bank,
            manager=User.objects.get(username="manager"),
            supervisor=User.objects.get(username="supervisor"),
            today=today,
        )
        created = True
    added = assignments_ensure_today(today=today)
    daily_campaign_demo_build(today=today)
    holidays = holidays_load()
    return DemoLoadResult(
        created=created,
        assignments_created=added,
        logins=demo_logins(),
        holidays_added=holidays.added,
    )
