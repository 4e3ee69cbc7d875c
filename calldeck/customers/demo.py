"""Customer-data pieces of the demo: a saved import mapping and a few segments."""

from __future__ import annotations

from calldeck.accounts.models import Client, User
from calldeck.customers.models import ImportKind, ImportMapping, Segment
from calldeck.customers.segments import rules_validate

# The headers of the demo files in calldeck/customers/demo_files/.
DEMO_MAPPING = {
    "客户编号": "customer_key",
    "姓名": "name",
    "性别": "gender",
    "手机": "mobile",
    "电话": "phone",
    "邮箱": "email",
    "出生日期": "birthday",
    "城市": "city",
}

DEMO_SEGMENTS = [
    (
        "京沪 30–45 岁，30 天未联系",
        "北京、上海的 30 至 45 岁客户，最近 30 天没有通话，可以营销。",
        [
            {"field": "city", "op": "in", "value": ["北京", "上海"]},
            {"field": "age", "op": "between", "value": [30, 45]},
            {"field": "contacted", "op": "not_within_days", "value": 30},
            {"field": "consent_marketing", "op": "is", "value": True},
        ],
    ),
    (
        "高价值客户",
        "价值等级为高、有有效手机号、不在免打扰或黑名单上。",
        [
            {"field": "value_tier", "op": "in", "value": ["high"]},
            {"field": "valid_mobile", "op": "is", "value": True},
            {"field": "blocked", "op": "is", "value": False},
        ],
    ),
]


def customer_data_demo_create(*, client: Client, admin: User, manager: User) -> None:
    ImportMapping.objects.create(
        client=client,
        kind=ImportKind.CUSTOMERS,
        name="银行客户导出（标准）",
        columns=DEMO_MAPPING,
        encoding="gbk",
        created_by=admin,
    )
    for name, description, rules in DEMO_SEGMENTS:
        Segment.objects.create(
            client=client,
            name=name,
            description=description,
            rules=rules_validate(rules, client_id=client.pk),
            created_by=manager,
        )
