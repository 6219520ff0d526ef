"""Demo data: a Hainan hotel-supplies distributor (seed data; Chinese on purpose).

`flask pifa seed-demo` is idempotent: every row is looked up by a natural key
first, so a second run creates nothing and changes nothing.
"""

from sqlalchemy import select

from .extensions import db
from .models import Member, MemberStatus, Region, ShopSettings, StaffKind, StaffProfile
from .models.base import utcnow
from .security import ADMIN, CUSTOMER, CUSTOMER_SERVICE
from .services import accounts, staff

DEMO_PASSWORD = "pifa2026"  # noqa: S105  (demo logins, listed in README)

SHOP = {
    "shop_name": "椰城酒店用品批发",
    "intro": "海南本地酒店用品批发商：一次性洗漱用品、客房纸品、清洁用品、瓶装水，"
             "整箱批发，海口、三亚、琼海送货上门。",
    "cs_phone": "0898-66881234",
    "is_open": True,
    "theme_color": "#D83B2D",
    "bank_account": "户名：海口椰城酒店用品有限公司\n开户行：中国工商银行海口龙华支行\n"
                    "账号：2201 0234 0910 0123 456",
    "pickup_address": "海口市龙华区金盘路 18 号椰城仓库 3 号门",
    "auto_receive_days": 7,
}

REGIONS = [("海口", 1), ("三亚", 2), ("琼海", 3)]

# (mobile, name, roles)
ADMINS = [
    ("13800000001", "林总", [ADMIN]),
    ("13800000002", "客服小陈", [CUSTOMER_SERVICE]),
]
# (mobile, name, kind, plate, regions)
STAFF = [
    ("13800000011", "王建国", StaffKind.SALESMAN, None, ["海口", "三亚"]),
    ("13800000012", "李海燕", StaffKind.SALESMAN, None, ["三亚"]),
    ("13800000021", "陈师傅", StaffKind.DRIVER, "琼A·5D321", ["海口", "琼海"]),
    ("13800000022", "符师傅", StaffKind.DRIVER, "琼B·8K762", ["三亚"]),
]
# (mobile, contact, shop, region, address, status, reason, own salesman mobile)
CUSTOMERS = [
    ("13900000031", "黄经理", "海口椰风精品酒店", "海口", "海口市美兰区海甸二东路 25 号",
     MemberStatus.APPROVED, None, "13800000011"),
    ("13900000032", "吴老板", "三亚湾海景民宿", "三亚", "三亚市天涯区三亚湾路 88 号",
     MemberStatus.PENDING, None, "13800000012"),
    ("13900000033", "郑店长", "琼海博鳌便利店", "琼海", "琼海市博鳌镇滨海大道 12 号",
     MemberStatus.REJECTED, "营业执照照片不清晰，请重新拍摄上传。", None),
]


def _account(mobile, name, roles, counter):
    user = accounts.find_account(mobile)
    if user is None:
        user = accounts.create_account(mobile, name, DEMO_PASSWORD, roles)
        counter.append(user)
    return user


def seed_demo() -> int:
    """Load the demo distributor; returns how many rows were created."""
    created: list = []
    if db.session.scalar(select(ShopSettings.id)) is None:
        db.session.add(ShopSettings(**SHOP))
        created.append("settings")

    regions = {}
    for name, order in REGIONS:
        region = db.session.scalar(select(Region).where(Region.name == name))
        if region is None:
            region = Region(name=name, sort_order=order, active=True)
            db.session.add(region)
            created.append(region)
        regions[name] = region
    db.session.flush()

    for mobile, name, roles in ADMINS:
        _account(mobile, name, roles, created)

    profiles = {}
    for mobile, name, kind, plate, region_names in STAFF:
        user = accounts.find_account(mobile)
        profile = None
        if user is not None:
            profile = db.session.scalar(select(StaffProfile).where(
                StaffProfile.user_id == user.id, StaffProfile.kind == kind))
        if profile is None:
            profile = StaffProfile(name=name, phone=mobile, kind=kind, plate=plate,
                                   regions=[regions[r] for r in region_names], active=True)
            staff.prepare_staff(profile, DEMO_PASSWORD)
            db.session.add(profile)
            created.append(profile)
        profiles[mobile] = profile
    db.session.flush()

    for mobile, contact, shop, region, address, status, reason, salesman in CUSTOMERS:
        user = _account(mobile, contact, [CUSTOMER], created)
        if db.session.scalar(select(Member.id).where(Member.user_id == user.id)) is None:
            db.session.add(Member(
                user_id=user.id, shop_name=shop, contact_name=contact, phone=mobile,
                address=address, region_id=regions[region].id, status=status,
                reject_reason=reason,
                own_salesman_id=profiles[salesman].id if salesman else None,
                approved_at=utcnow() if status == MemberStatus.APPROVED else None))
            created.append(mobile)
    db.session.commit()
    return len(created)
