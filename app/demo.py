"""Demo data: a Hainan hotel-supplies distributor (seed data; Chinese on purpose).

`flask pifa seed-demo` is idempotent: every row is looked up by a natural key
first (a level, brand or tag by its name, a category by name and parent, a product
by its item number, an article by kind and title, a home block by kind and title, a
customer's saved address by the customer), so a second run creates nothing and changes
nothing. Pictures are drawn by app/demo_images.py and stored through services.uploads
like any upload, only when the row that uses them is created.

A database seeded by an older demo is repaired once: spec-library entries whose carton
held a single inner pack get their real packing, and the identical addresses the demo
orders used to save, one per order, become one per customer.
"""

import io
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app import demo_images
from app.catalog import services as catalog
from app.catalog.models import (
    Brand,
    Category,
    LevelPrice,
    PackUnit,
    Product,
    ProductImage,
    Spec,
    Tag,
)
from app.content import services as content
from app.content.models import Article, ArticleKind, BlockKind, HomeBlock, HomeBlockItem, Store
from app.extensions import db
from app.members import staff
from app.members.models import Member, MemberLevel, MemberStatus, Region, StaffKind, StaffProfile
from app.ordering import checkout, scope
from app.platform import accounts, uploads
from app.platform.models import ShopSettings
from app.platform.security import ADMIN, CUSTOMER, CUSTOMER_SERVICE
from app.platform.time import utcnow

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
# (mobile, contact, shop, region, address, status, reason, own salesman mobile, level)
CUSTOMERS = [
    ("13900000031", "黄经理", "海口椰风精品酒店", "海口", "海口市美兰区海甸二东路 25 号",
     MemberStatus.APPROVED, None, "13800000011", "银牌"),
    ("13900000032", "吴老板", "三亚湾海景民宿", "三亚", "三亚市天涯区三亚湾路 88 号",
     MemberStatus.PENDING, None, "13800000012", None),
    ("13900000033", "郑店长", "琼海博鳌便利店", "琼海", "琼海市博鳌镇滨海大道 12 号",
     MemberStatus.REJECTED, "营业执照照片不清晰，请重新拍摄上传。", None, None),
    ("13900000034", "林经理", "亚龙湾椰林度假酒店", "三亚", "三亚市吉阳区亚龙湾路 66 号",
     MemberStatus.APPROVED, None, "13800000012", "金牌"),
    ("13900000035", "符老板", "琼海万泉河宾馆", "琼海", "琼海市嘉积镇万泉河路 8 号",
     MemberStatus.APPROVED, None, None, "普通"),
]

# Demo orders: (customer mobile, state, delivery, payment, [(item no, inner packs)]).
# 琼海 has no salesman, so customer service (小陈) moves its orders.
ORDERS = [
    ("13900000031", "pending", "delivery", "cod", [("QQ-KQS-550", 4), ("YD-TS-001", 1)]),
    ("13900000031", "confirmed", "delivery", "bank", [("YK-TS-002", 2)]),
    ("13900000031", "assigned", "delivery", "cod", [("QQ-KQS-550", 6), ("YK-SZ-001", 1)]),
    ("13900000031", "delivered", "delivery", "cod", [("QQ-KQS-550", 2), ("YD-XF-001", 1)]),
    ("13900000034", "pending", "delivery", "monthly", [("YD-XF-002", 2)]),
    ("13900000034", "delivering", "delivery", "cod", [("YD-TS-001", 2), ("QQ-KQS-550", 4)]),
    ("13900000034", "shipped", "express", "prepay", [("YK-YM-001", 1)]),
    ("13900000034", "received", "delivery", "bank", [("YD-XZ-001", 1)]),
    ("13900000035", "pending", "delivery", "cod", [("QQ-KQS-550", 2)]),
    ("13900000035", "ready_for_pickup", "pickup", "bank", [("YD-TS-001", 1)]),
    ("13900000035", "closed", "delivery", "cod", [("YK-SZ-001", 1)]),
]
REGION_FEES = [("海口", Decimal("10"), Decimal("300")), ("三亚", Decimal("30"), Decimal("800")),
               ("琼海", Decimal("25"), Decimal("600"))]
FREIGHT = ("海南及华南", ["海南省", "广东省", "广西壮族自治区"], Decimal("1"), Decimal("12"),
           Decimal("3"), Decimal("500"))

# ---- catalog ----------------------------------------------------------------------------

# (name, sort order, discount off the base price; None: the base level, no own prices)
LEVELS = [("普通", 1, None), ("银牌", 2, Decimal("0.95")), ("金牌", 3, Decimal("0.90"))]
DEFAULT_LEVEL = "普通"

# Three levels: (name, icon shape, children). Leaves may sit at level 2 or 3.
CATEGORIES = [
    ("客房用品", "bag", [
        ("一次性洗漱", "box", [
            ("牙刷套装", "box", []), ("梳子", "comb", []), ("浴帽", "circle", []),
            ("洗发沐浴", "bottle", []), ("香皂", "box", []), ("小件用品", "sachet", []),
        ]),
        ("拖鞋", "slipper", [("毛巾底拖鞋", "slipper", []), ("无纺布拖鞋", "slipper", [])]),
    ]),
    ("纸品", "roll", [
        ("生活用纸", "roll", [
            ("卷纸", "roll", []), ("抽纸", "box", []), ("擦手纸", "box", []),
            ("餐巾纸", "sachet", []),
        ]),
    ]),
    ("清洁用品", "tub", [
        ("洗涤剂", "tub", [("洗衣液", "tub", []), ("洗洁精", "bottle", []),
                          ("消毒清洁", "bottle", [])]),
        ("垃圾袋", "bag", []),
    ]),
    ("饮品", "bottle", [("瓶装水", "bottle", []), ("茶包咖啡", "sachet", [])]),
    ("餐饮用品", "cup", [
        ("一次性餐具", "cup", [("一次性杯子", "cup", []), ("筷子勺子", "comb", []),
                               ("打包餐盒", "box", [])]),
    ]),
]


def _shapes(nodes) -> dict[str, str]:
    """Category name -> the shape drawn on its icon and on its products' pictures."""
    found = {}
    for name, shape, children in nodes:
        found[name] = shape
        found.update(_shapes(children))
    return found


SHAPE_OF = _shapes(CATEGORIES)

# (name, code, story) — invented brands.
BRANDS = [
    ("椰岛优品", "YD", "椰岛优品 2009 年创立于海口，专为酒店、民宿配套客房一次性洗漱用品。"
     "洗护用品以海南椰子油为基底，气味清淡；牙具、梳子、浴帽采用食品级材料，"
     "可按酒店需要定制印字包装，是海南三百多家酒店的长期供应商。"),
    ("宜客", "YK", "宜客专注经济型酒店和连锁公寓的一次性用品，主打“够用、耐用、价格实在”。"
     "工厂直供，整箱起批，常年备货，旺季不断货。"),
    ("舒眠", "SM", "舒眠做了十五年酒店拖鞋，从无纺布款到毛巾底、珊瑚绒款一应俱全。"
     "鞋底防滑，鞋面柔软，码数齐全，支持酒店 LOGO 定制。"),
    ("海韵", "HY", "海韵纸业以原生木浆和竹浆为原料，生产卷纸、擦手纸和商用大盘纸，"
     "纸质柔韧、掉屑少，专供酒店、餐厅和写字楼的公共卫生间。"),
    ("云柔", "YR", "云柔抽纸和面巾纸主打柔软亲肤，三层加厚，适合酒店客房、餐厅和便利店零售。"),
    ("南海洁", "NH", "南海洁是海南本地洗涤用品厂，洗衣液、洗洁精和消毒液均有桶装商用规格，"
     "为酒店布草房和餐饮后厨提供整套清洁方案。"),
    ("百洁仕", "BJ", "百洁仕提供玻璃清洁剂、洁厕剂、多功能清洁剂等专业清洁用品，"
     "浓缩配方可按比例稀释，适合保洁公司和酒店客房部使用。"),
    ("绿洲环保", "LZ", "绿洲环保生产垃圾袋和一次性餐具，近年主推全生物降解系列，"
     "符合海南“禁塑令”要求，是餐饮门店和酒店的放心之选。"),
    ("清泉", "QQ", "清泉饮用水取自海南中部山区的地下深层水源，矿物质含量稳定，"
     "550ml 和 380ml 规格专为酒店客房和会议用水设计，整箱配送。"),
    ("琼香", "QX", "琼香茶业选用海南本地茶园的红茶、绿茶和咖啡豆，独立包装茶包和挂耳咖啡，"
     "是酒店客房迷你吧和会议茶歇的常备品。"),
    ("棉语", "ML", "棉语专做客房小件：棉签、针线包、鞋擦、指甲锉和剃须刀，"
     "纸盒或牛皮纸袋包装，单独封口，干净卫生。"),
]

TAGS = ["热销", "新品", "整箱特惠"]

# The spec library 规格库: key -> (base unit, inner unit, inner qty, outer unit, outer qty).
# The carton always holds several inner packs (the inner pack is the MOQ, 整箱 the carton).
PACKS = {
    "把20": ("把", "盒", 20, "箱", 400),
    "把50": ("把", "盒", 50, "箱", 1000),
    "桶2": ("桶", "盒", 2, "箱", 4),
    "桶4": ("桶", "盒", 4, "箱", 8),
    "瓶12提": ("瓶", "提", 12, "箱", 24),  # bottled water: shrink-wrapped 提, cartons of 24
    "瓶6提": ("瓶", "提", 6, "箱", 12),
    "瓶50": ("瓶", "盒", 50, "箱", 500),
    "瓶6": ("瓶", "盒", 6, "箱", 24),
    "套50": ("套", "盒", 50, "箱", 500),
    "套100": ("套", "盒", 100, "箱", 1000),
    "卷10": ("卷", "盒", 10, "箱", 100),
    "卷12": ("卷", "盒", 12, "箱", 48),
    "卷5": ("卷", "盒", 5, "箱", 50),
    "个50": ("个", "盒", 50, "箱", 1000),
    "个100": ("个", "盒", 100, "箱", 2000),
    "个25": ("个", "盒", 25, "箱", 300),
    "扎10": ("扎", "盒", 10, "箱", 100),
    "扎5": ("扎", "盒", 5, "箱", 40),
    "双20": ("双", "包", 20, "箱", 200),
    "包10": ("包", "提", 10, "箱", 60),
    "包5": ("包", "提", 5, "箱", 20),
    "包100": ("包", "盒", 100, "箱", 2000),
}
# Entries older demos wrote with one inner pack per carton, and what they are now.
LEGACY_PACKS = {
    ("瓶", "盒", 24, "箱", 24): "瓶12提",
    ("瓶", "盒", 12, "箱", 12): "瓶6提",
}

HOT, NEW, DEAL = TAGS

# Products: (item no, name, brand, leaf category, tags, specs, extra).
# A spec: (model 型号, spec 规格, pack key, kg per base unit, cartons in stock, yuan per base unit).
# extra: off (下架), desc (HTML), no_gold (index of a spec without a 金牌 price).
PRODUCTS = [
    # 牙刷套装
    ("YD-TS-001", "一次性牙刷套装", "椰岛优品", "牙刷套装", [HOT], [
        ("T-01", "中号 单支装 配3g牙膏", "套100", "0.012", 60, "0.45"),
        ("T-02", "加长柄 配6g牙膏", "套100", "0.018", 40, "0.68"),
    ], {"desc": "<p>酒店客房标配牙具：软毛牙刷配小支牙膏，独立 OPP 袋封口。</p>"
                "<p>常用规格 3g / 6g 牙膏，可印酒店名称（起订 10 箱）。</p>"}),
    ("YK-TS-002", "一次性牙刷 磨砂柄", "宜客", "牙刷套装", [], [
        ("T-11", "白色磨砂柄 单支", "把50", "0.008", 30, "0.28"),
    ], {}),
    ("YD-TS-003", "竹炭牙刷套装", "椰岛优品", "牙刷套装", [NEW], [
        ("T-21", "竹炭刷毛 配10g牙膏", "套50", "0.022", 20, "0.95"),
    ], {"desc": "<p>竹炭软毛，加长牙膏，适合中高档酒店。</p>"}),
    ("YK-TS-004", "儿童牙刷套装", "宜客", "牙刷套装", [], [
        ("T-31", "儿童款 配5g草莓味牙膏", "套50", "0.015", 10, "0.85"),
    ], {"off": True}),
    ("YD-TS-005", "纸盒装牙具", "椰岛优品", "牙刷套装", [], [
        ("T-41", "纸盒装 中号", "套100", "0.020", 25, "0.58"),
        ("T-42", "纸盒装 大号", "套100", "0.025", 15, "0.72"),
    ], {}),
    # 梳子
    ("YK-SZ-001", "一次性梳子", "宜客", "梳子", [HOT], [
        ("S-01", "16cm 透明", "把50", "0.006", 30, "0.12"),
        ("S-02", "18cm 咖啡色", "把50", "0.008", 20, "0.15"),
    ], {}),
    ("YD-SZ-002", "宽齿梳 独立包装", "椰岛优品", "梳子", [], [
        ("S-11", "宽齿 17cm", "把20", "0.010", 15, "0.22"),
    ], {}),
    ("YD-SZ-003", "折叠梳", "椰岛优品", "梳子", [NEW], [
        ("S-21", "折叠款 带镜子", "把20", "0.012", 10, "0.35"),
    ], {}),
    # 浴帽
    ("YK-YM-001", "一次性浴帽", "宜客", "浴帽", [HOT], [
        ("M-01", "PE 薄款 单只装", "个100", "0.003", 40, "0.08"),
        ("M-02", "加厚款 单只装", "个100", "0.005", 20, "0.12"),
    ], {}),
    ("YD-YM-002", "纸盒装浴帽", "椰岛优品", "浴帽", [], [
        ("M-11", "纸盒装 松紧边", "个100", "0.006", 15, "0.18"),
    ], {}),
    # 洗发沐浴
    ("YD-XF-001", "洗发水 30ml 瓶装", "椰岛优品", "洗发沐浴", [HOT], [
        ("B-30", "30ml 椰子香", "瓶50", "0.036", 80, "0.55"),
        ("B-35", "35ml 椰子香", "瓶50", "0.041", 40, "0.62"),
    ], {"desc": "<p>椰子油配方，温和不紧绷。PET 小圆瓶，瓶身可印字。</p>"}),
    ("YD-XF-002", "沐浴露 30ml 瓶装", "椰岛优品", "洗发沐浴", [HOT], [
        ("B-30", "30ml 海洋香", "瓶50", "0.036", 80, "0.55"),
        ("B-35", "35ml 海洋香", "瓶50", "0.041", 30, "0.62"),
    ], {}),
    ("YD-XF-003", "护发素 30ml 瓶装", "椰岛优品", "洗发沐浴", [], [
        ("B-30", "30ml", "瓶50", "0.036", 30, "0.58"),
    ], {}),
    ("YD-XF-004", "身体乳 30ml 瓶装", "椰岛优品", "洗发沐浴", [NEW], [
        ("B-30", "30ml 椰奶香", "瓶50", "0.036", 20, "0.65"),
    ], {}),
    ("YK-XF-005", "洗发沐浴二合一 5L 桶装", "宜客", "洗发沐浴", [DEAL], [
        ("L-5", "5L 桶装 壁挂补充装", "桶2", "5.300", 30, "58.00"),
    ], {"desc": "<p>配合壁挂式皂液器使用，环保省钱，一桶约可补充 160 次。</p>"}),
    ("YK-XF-006", "洗发水 20ml 经济装", "宜客", "洗发沐浴", [], [
        ("B-20", "20ml 扁瓶", "瓶50", "0.025", 50, "0.32"),
    ], {}),
    # 香皂
    ("YD-XZ-001", "酒店香皂", "椰岛优品", "香皂", [HOT], [
        ("P-15", "15g 圆形 纸盒装", "个100", "0.018", 60, "0.25"),
        ("P-25", "25g 方形 纸盒装", "个100", "0.028", 40, "0.38"),
        ("P-35", "35g 椭圆 纸盒装", "个100", "0.040", 20, "0.52"),
    ], {"desc": "<p>植物皂基，淡淡椰香。纸盒独立包装，适合中高档客房。</p>"}),
    ("YK-XZ-002", "一次性香皂 简装", "宜客", "香皂", [DEAL], [
        ("P-10", "10g 透明膜简装", "个100", "0.012", 50, "0.12"),
    ], {}),
    # 小件用品
    ("ML-XJ-001", "棉签 盒装", "棉语", "小件用品", [], [
        ("Q-8", "8 支/小盒", "个100", "0.004", 20, "0.10"),
    ], {}),
    ("ML-XJ-002", "针线包", "棉语", "小件用品", [], [
        ("Z-1", "5 色线 2 针 纸袋装", "套100", "0.005", 10, "0.15"),
    ], {}),
    ("ML-XJ-003", "鞋擦", "棉语", "小件用品", [], [
        ("X-1", "无纺布鞋擦", "个100", "0.006", 20, "0.12"),
        ("X-2", "海绵鞋擦 带鞋油", "个100", "0.012", 10, "0.35"),
    ], {}),
    ("ML-XJ-004", "指甲锉", "棉语", "小件用品", [], [
        ("J-1", "纸质指甲锉 独立包装", "个100", "0.003", 10, "0.10"),
    ], {}),
    ("ML-XJ-005", "一次性剃须刀", "棉语", "小件用品", [], [
        ("R-1", "双层刀片 配剃须膏", "把50", "0.012", 10, "0.85"),
        ("R-2", "三层刀片", "把50", "0.015", 5, "1.20"),
    ], {}),
    ("ML-XJ-006", "化妆棉三件套", "棉语", "小件用品", [NEW], [
        ("H-3", "化妆棉+棉签+发圈 纸袋装", "套100", "0.008", 8, "0.30"),
    ], {}),
    # 拖鞋
    ("SM-TX-001", "酒店拖鞋 毛巾底", "舒眠", "毛巾底拖鞋", [HOT], [
        ("H-01", "白色毛圈 28cm 均码", "双20", "0.080", 50, "1.35"),
        ("H-02", "白色毛圈 加厚 30cm", "双20", "0.110", 30, "1.80"),
    ], {"desc": "<p>毛圈面料，吸汗透气；EVA 防滑底，厚 5mm。</p>"}),
    ("SM-TX-002", "珊瑚绒拖鞋", "舒眠", "毛巾底拖鞋", [NEW], [
        ("H-11", "米色珊瑚绒 29cm", "双20", "0.120", 20, "2.60"),
    ], {}),
    ("SM-TX-003", "华夫格拖鞋 包头", "舒眠", "毛巾底拖鞋", [], [
        ("H-21", "灰色华夫格 包头款", "双20", "0.100", 20, "2.20"),
    ], {}),
    ("SM-TX-004", "酒店拖鞋 无纺布", "舒眠", "无纺布拖鞋", [HOT], [
        ("N-01", "白色无纺布 薄底 27cm", "双20", "0.040", 60, "0.55"),
        ("N-02", "白色无纺布 加厚底", "双20", "0.060", 40, "0.75"),
    ], {}),
    ("YK-TX-005", "一次性拖鞋 经济款", "宜客", "无纺布拖鞋", [DEAL], [
        ("N-11", "无纺布 3mm 底", "双20", "0.035", 80, "0.42"),
    ], {}),
    ("SM-TX-006", "儿童拖鞋 无纺布", "舒眠", "无纺布拖鞋", [], [
        ("N-21", "儿童 22cm", "双20", "0.030", 10, "0.60"),
    ], {}),
    # 卷纸
    ("HY-JZ-001", "卷纸 4 层 140 克", "海韵", "卷纸", [HOT], [
        ("R-140", "4 层 140g/卷 有芯", "卷10", "0.140", 80, "1.60"),
        ("R-180", "4 层 180g/卷 有芯", "卷10", "0.180", 40, "2.00"),
    ], {"desc": "<p>原生木浆，4 层加厚，不掉屑。酒店客房、写字楼常用。</p>"}),
    ("HY-JZ-002", "商用大盘纸", "海韵", "卷纸", [], [
        ("D-700", "双层 700g/卷", "卷12", "0.700", 30, "6.80"),
    ], {}),
    ("YR-JZ-003", "无芯卷纸", "云柔", "卷纸", [DEAL], [
        ("W-120", "3 层 120g/卷", "卷10", "0.120", 60, "1.30"),
    ], {}),
    ("HY-JZ-004", "竹浆本色卷纸", "海韵", "卷纸", [NEW], [
        ("B-150", "本色 4 层 150g/卷", "卷10", "0.150", 30, "1.90"),
    ], {}),
    # 抽纸
    ("YR-CZ-001", "抽纸 3 层 100 抽", "云柔", "抽纸", [HOT], [
        ("C-100", "3 层 100 抽/包 软抽", "包10", "0.090", 60, "1.10"),
        ("C-130", "3 层 130 抽/包 软抽", "包10", "0.115", 30, "1.40"),
    ], {}),
    ("YR-CZ-002", "盒装面巾纸", "云柔", "抽纸", [], [
        ("H-200", "2 层 200 抽 纸盒装", "包10", "0.200", 30, "2.30"),
    ], {}),
    ("HY-CZ-003", "手帕纸", "海韵", "抽纸", [], [
        ("P-10", "4 层 10 张/小包", "包100", "0.015", 20, "0.35"),
    ], {}),
    # 擦手纸
    ("HY-CS-001", "擦手纸 三折", "海韵", "擦手纸", [], [
        ("Z-200", "单层 200 张/包 三折", "包5", "0.220", 40, "3.20"),
    ], {}),
    ("HY-CS-002", "擦手纸 N 折 加厚", "海韵", "擦手纸", [], [
        ("N-200", "双层 200 张/包", "包5", "0.260", 20, "3.80"),
    ], {}),
    # 餐巾纸
    ("YR-CJ-001", "方形餐巾纸", "云柔", "餐巾纸", [], [
        ("F-100", "单层 100 张/包 23cm", "包100", "0.060", 20, "0.80"),
    ], {}),
    ("YR-CJ-002", "盒装抽取式餐巾纸", "云柔", "餐巾纸", [], [
        ("F-150", "双层 150 抽", "包10", "0.120", 10, "1.60"),
    ], {"off": True}),
    # 洗衣液 / 洗洁精 / 消毒清洁
    ("NH-XY-001", "洗衣液 5kg 桶装", "南海洁", "洗衣液", [DEAL], [
        ("L-5", "5kg 薰衣草香", "桶2", "5.200", 30, "32.00"),
    ], {"desc": "<p>低泡配方，适合酒店布草房滚筒洗衣机。</p>"}),
    ("NH-XY-002", "布草专用洗涤剂", "南海洁", "洗衣液", [], [
        ("L-10", "10kg 浓缩型", "桶2", "10.300", 10, "88.00"),
    ], {}),
    ("NH-XJ-001", "洗洁精", "南海洁", "洗洁精", [HOT], [
        ("J-11", "1.1kg 瓶装 柠檬香", "瓶6", "1.150", 40, "6.50"),
        ("J-50", "5kg 桶装 商用", "桶2", "5.100", 30, "26.00"),
    ], {}),
    ("NH-XD-001", "84 消毒液", "南海洁", "消毒清洁", [], [
        ("X-500", "500ml 瓶装", "瓶6", "0.550", 30, "3.80"),
        ("X-5L", "5L 桶装", "桶4", "5.300", 20, "28.00"),
    ], {}),
    ("BJ-XD-002", "玻璃清洁剂", "百洁仕", "消毒清洁", [], [
        ("G-500", "500ml 喷壶装", "瓶6", "0.550", 20, "5.80"),
    ], {}),
    ("BJ-XD-003", "洁厕剂", "百洁仕", "消毒清洁", [], [
        ("M-500", "500ml 尖嘴瓶", "瓶6", "0.560", 30, "4.50"),
    ], {}),
    ("BJ-XD-004", "多功能清洁剂 浓缩", "百洁仕", "消毒清洁", [NEW], [
        ("D-5L", "5L 浓缩 1:50 稀释", "桶2", "5.200", 10, "45.00"),
    ], {}),
    ("BJ-XD-005", "洗手液", "百洁仕", "消毒清洁", [], [
        ("S-500", "500ml 按压瓶 芦荟", "瓶6", "0.560", 20, "6.20"),
        ("S-5L", "5L 补充装", "桶4", "5.200", 10, "35.00"),
    ], {}),
    # 垃圾袋
    ("LZ-LJ-001", "平口垃圾袋", "绿洲环保", "垃圾袋", [HOT], [
        ("P-4560", "45×60cm 黑色 50 只/卷", "卷5", "0.120", 50, "2.20"),
        ("P-6080", "60×80cm 黑色 30 只/卷", "卷5", "0.180", 30, "3.20"),
    ], {}),
    ("LZ-LJ-002", "背心式垃圾袋", "绿洲环保", "垃圾袋", [], [
        ("V-3045", "30×45cm 彩色 100 只/卷", "卷5", "0.100", 30, "2.50"),
    ], {}),
    ("LZ-LJ-003", "加厚大号垃圾袋", "绿洲环保", "垃圾袋", [DEAL], [
        ("P-90100", "90×100cm 加厚 10 只/卷", "卷5", "0.300", 20, "4.80"),
    ], {}),
    ("LZ-LJ-004", "全降解垃圾袋", "绿洲环保", "垃圾袋", [NEW], [
        ("B-5060", "50×60cm 绿色 30 只/卷", "卷5", "0.150", 30, "4.50"),
    ], {"desc": "<p>PBAT+PLA 全生物降解材料，符合海南禁塑要求。</p>"}),
    # 瓶装水
    ("QQ-KQS-550", "天然矿泉水 550ml", "清泉", "瓶装水", [HOT, DEAL], [
        ("550", "550ml 塑瓶", "瓶12提", "0.570", 200, "1.05"),
    ], {"desc": "<p>海南中部山区深层水源，12 瓶一提、24 瓶一箱，海口市区当日送达。</p>"}),
    ("QQ-KQS-380", "矿泉水 380ml 客房装", "清泉", "瓶装水", [HOT], [
        ("380", "380ml 塑瓶", "瓶12提", "0.400", 150, "0.85"),
    ], {}),
    ("QQ-KQS-1500", "矿泉水 1.5L", "清泉", "瓶装水", [], [
        ("1500", "1.5L 塑瓶", "瓶6提", "1.550", 60, "2.20"),
    ], {"no_gold": 0}),
    ("QQ-CJS-550", "纯净水 550ml", "清泉", "瓶装水", [DEAL], [
        ("550", "550ml 塑瓶", "瓶12提", "0.570", 200, "0.80"),
    ], {}),
    ("QQ-YZS-330", "椰子水 330ml", "清泉", "瓶装水", [NEW], [
        ("330", "330ml 塑瓶", "瓶12提", "0.360", 40, "3.50"),
    ], {}),
    # 茶包咖啡
    ("QX-CB-001", "红茶包", "琼香", "茶包咖啡", [], [
        ("T-R", "2g/包 独立袋装", "包100", "0.003", 20, "0.18"),
    ], {}),
    ("QX-CB-002", "绿茶包", "琼香", "茶包咖啡", [], [
        ("T-G", "2g/包 独立袋装", "包100", "0.003", 20, "0.18"),
    ], {}),
    ("QX-CB-003", "速溶咖啡 三合一", "琼香", "茶包咖啡", [HOT], [
        ("C-3", "15g/条", "包100", "0.016", 30, "0.55"),
    ], {}),
    ("QX-CB-004", "挂耳咖啡", "琼香", "茶包咖啡", [NEW], [
        ("C-G", "10g/包 海南中粒种", "包100", "0.012", 10, "1.80"),
    ], {"desc": "<p>海南本地咖啡豆，中度烘焙，客房迷你吧的好选择。</p>"}),
    ("QX-CB-005", "白砂糖包", "琼香", "茶包咖啡", [], [
        ("S-5", "5g/包", "包100", "0.005", 20, "0.06"),
    ], {}),
    # 一次性餐具
    ("LZ-BZ-001", "一次性纸杯", "绿洲环保", "一次性杯子", [HOT], [
        ("P-9", "250ml 白色加厚", "个50", "0.005", 60, "0.12"),
        ("P-7", "200ml 白色", "个50", "0.004", 40, "0.09"),
    ], {}),
    ("LZ-BZ-002", "一次性塑料杯", "绿洲环保", "一次性杯子", [], [
        ("S-200", "200ml 透明航空杯", "个50", "0.003", 30, "0.07"),
    ], {}),
    ("YK-BZ-003", "漱口杯 独立包装", "宜客", "一次性杯子", [], [
        ("S-250", "250ml 透明 PP", "个50", "0.012", 20, "0.30"),
    ], {}),
    ("LZ-KZ-001", "一次性竹筷", "绿洲环保", "筷子勺子", [], [
        ("K-20", "20cm 独立纸包 100 双/扎", "扎10", "0.500", 30, "5.50"),
    ], {}),
    ("LZ-KZ-002", "一次性勺子", "绿洲环保", "筷子勺子", [], [
        ("Sp-1", "独立包装 100 个/扎", "扎5", "0.200", 20, "3.80"),
    ], {}),
    ("LZ-CH-001", "一次性打包餐盒", "绿洲环保", "打包餐盒", [], [
        ("H-750", "750ml 方形 带盖", "个25", "0.025", 30, "0.45"),
        ("H-1000", "1000ml 方形 带盖", "个25", "0.030", 20, "0.55"),
    ], {}),
    ("LZ-CH-002", "甘蔗浆餐盒", "绿洲环保", "打包餐盒", [NEW], [
        ("G-600", "600ml 可降解", "个25", "0.020", 20, "0.60"),
    ], {}),
]

# Home page blocks in order: (kind, title, extra fields).
ICON_NAV = ["一次性洗漱", "拖鞋", "生活用纸", "洗涤剂", "垃圾袋", "瓶装水", "茶包咖啡",
            "一次性餐具"]
BANNERS = [  # (title, subtitle, Latin fallback, linked category, shape)
    ("整箱批发 送货上门", "海口 三亚 琼海 次日送达", "WHOLESALE", "客房用品", "box"),
    ("客房洗漱 一站配齐", "牙具 梳子 浴帽 洗护 香皂", "HOTEL AMENITIES", "一次性洗漱", "bottle"),
    ("纸品清洁 整箱特惠", "卷纸 抽纸 垃圾袋 清洁剂", "PAPER & CLEANING", "纸品", "roll"),
]
NOTICE = "春节期间送货安排已发布，请提前备货；海口市区整单满 300 元免费送货。"

ARTICLES = [
    (ArticleKind.ANNOUNCEMENT, "春节期间送货安排", 1,
     "<h3>春节期间送货安排</h3>"
     "<p>各位客户：春节将至，为保证酒店、民宿旺季用货，送货安排如下：</p>"
     "<ul><li>腊月二十五前下单：正常送货（海口当日、三亚和琼海次日）；</li>"
     "<li>腊月二十六至正月初三：仅海口市区送货，三亚、琼海暂停；</li>"
     "<li>正月初四起：全部恢复正常。</li></ul>"
     "<p>请各位客户提前备货。放假期间客服电话 <a href=\"tel:0898-66881234\">"
     "0898-66881234</a> 照常接听。</p><p>椰城酒店用品批发 敬上</p>"),
    (ArticleKind.ARTICLE, "酒店客房用品采购指南", 2,
     "<h3>一间客房需要准备哪些一次性用品？</h3>"
     "<p>一间标准双床房每晚的常规消耗：牙具 2 套、梳子 2 把、浴帽 2 只、洗发水和沐浴露各 2 瓶、"
     "香皂 2 块、拖鞋 2 双、卷纸 1 卷、矿泉水 2 瓶。</p>"
     "<h3>怎样订货最划算</h3>"
     "<ol><li>按“整箱”订货：整箱价格更优惠，也方便仓库配货；</li>"
     "<li>常用品放进“常购清单”，下次一键再来一单；</li>"
     "<li>旺季（寒暑假、春节）前两周备货，避免断货。</li></ol>"
     "<p>审核通过的会员可看到本等级的批发价格，金牌会员另享约九折。</p>"),
    (ArticleKind.PAGE, "关于我们", 3,
     "<h3>椰城酒店用品批发</h3>"
     "<p>我们是海南本地的酒店用品批发商，2012 年起为海口、三亚、琼海的酒店、民宿、"
     "餐厅和便利店供货，常备一次性洗漱用品、拖鞋、纸品、清洁用品、瓶装水和一次性餐具近千个规格。</p>"
     "<p>自有仓库位于海口金盘工业区，配送车队覆盖全岛东线，海口市区当日送达。</p>"
     "<p>客服电话：<a href=\"tel:0898-66881234\">0898-66881234</a></p>"),
]

STORES = [
    ("海口金盘仓库门店", "海口市龙华区金盘路 18 号椰城仓库 3 号门", "0898-66881234",
     "周一至周日 08:00-18:00", Decimal("20.017426"), Decimal("110.313890"), 1),
    ("三亚门店", "三亚市吉阳区迎宾路 196 号", "0898-88661234",
     "周一至周六 08:30-17:30", Decimal("18.276580"), Decimal("109.530460"), 2),
]


# ---- helpers ----------------------------------------------------------------------------

def _account(mobile, name, roles, counter):
    user = accounts.find_account(mobile)
    if user is None:
        user = accounts.create_account(mobile, name, DEMO_PASSWORD, roles)
        counter.append(user)
    return user


def _store_png(data: bytes, folder: str, private: bool = False) -> str:
    """Store generated PNG bytes like an upload (re-encoded, thumbnailed); the key."""
    upload = FileStorage(stream=io.BytesIO(data), filename="demo.png", content_type="image/png")
    return uploads.save_image(upload, private=private, folder=folder).key


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _one(model, **by):
    return db.session.scalar(select(model).filter_by(**by).limit(1))


# ---- the seed ---------------------------------------------------------------------------

def seed_demo() -> int:
    """Load the demo distributor; returns how many rows were created (or repaired)."""
    created: list = []
    levels = _seed_levels(created)
    _seed_settings(levels, created)
    _seed_people(levels, created)
    categories = _seed_categories(created)
    brands = _seed_brands(created)
    tags = _seed_tags(created)
    _repair_packs(created)
    packs = _seed_packs(created)
    _seed_products(categories, brands, tags, packs, levels, created)
    _seed_content(categories, tags, created)
    _seed_delivery(created)
    _seed_addresses(created)
    db.session.commit()
    _seed_orders(created)
    return len(created)


def _seed_levels(created) -> dict[str, MemberLevel]:
    levels = {}
    for name, order, _ in LEVELS:
        level = _one(MemberLevel, name=name)
        if level is None:
            level = MemberLevel(name=name, sort_order=order)
            db.session.add(level)
            created.append(level)
        levels[name] = level
    db.session.flush()
    return levels


def _seed_settings(levels, created) -> None:
    settings = db.session.scalar(select(ShopSettings).order_by(ShopSettings.id).limit(1))
    if settings is None:
        settings = ShopSettings(**SHOP)
        db.session.add(settings)
        created.append(settings)
    # Filled only when empty: a database seeded by an older demo gets them, a second run
    # finds them set and changes nothing.
    if settings.default_level_id is None:
        settings.default_level_id = levels[DEFAULT_LEVEL].id
    if not settings.logo:
        settings.logo = _store_png(
            demo_images.logo("椰城", "YC", (216, 59, 45), size=240), "shop")


def _seed_people(levels, created) -> None:
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

    for mobile, contact, shop, region, address, status, reason, salesman, level in CUSTOMERS:
        user = _account(mobile, contact, [CUSTOMER], created)
        member = db.session.scalar(select(Member).where(Member.user_id == user.id))
        if member is None:
            member = Member(
                user_id=user.id, shop_name=shop, contact_name=contact, phone=mobile,
                address=address, region_id=regions[region].id, status=status,
                reject_reason=reason,
                own_salesman_id=profiles[salesman].id if salesman else None,
                approved_at=utcnow() if status == MemberStatus.APPROVED else None)
            db.session.add(member)
            created.append(member)
        if level and member.level_id is None:
            member.level_id = levels[level].id
        # Every demo customer has sent a complete profile (the rejected one: a blurry licence).
        if member.shop_photo is None:
            member.shop_photo = _store_png(demo_images.shop_front(
                shop, demo_images.colour_for(shop, 0.6, 0.7)), "member", private=True)
            member.submitted_at = member.submitted_at or utcnow()
        if member.licence_photo is None:
            member.licence_photo = _store_png(demo_images.licence(
                shop, contact, f"91460100MA5T{mobile[-6:]}X"), "member", private=True)


def _seed_categories(created) -> dict[str, Category]:
    """The tree, by name (names are unique in the demo tree)."""
    found: dict[str, Category] = {}

    def walk(nodes, parent, depth):
        for order, (name, shape, children) in enumerate(nodes, start=1):
            category = _one(Category, name=name, parent_id=parent.id if parent else None)
            if category is None:
                category = Category(
                    name=name, parent=parent, level=depth, sort_order=order, active=True,
                    icon=_store_png(demo_images.icon(shape, demo_images.colour_for(name)),
                                    "category"))
                db.session.add(category)
                db.session.flush()
                created.append(category)
            found[name] = category
            walk(children, category, depth + 1)

    walk(CATEGORIES, None, 1)
    return found


def _seed_brands(created) -> dict[str, Brand]:
    brands = {}
    for order, (name, code, story) in enumerate(BRANDS, start=1):
        brand = _one(Brand, name=name)
        if brand is None:
            brand = Brand(name=name, story=story, sort_order=order, logo=_store_png(
                demo_images.logo(name, code, demo_images.colour_for(name, 0.6, 0.75)),
                "brand"))
            db.session.add(brand)
            created.append(brand)
        brands[name] = brand
    return brands


def _seed_tags(created) -> dict[str, Tag]:
    tags = {}
    for name in TAGS:
        tag = _one(Tag, name=name)
        if tag is None:
            tag = Tag(name=name)
            db.session.add(tag)
            created.append(tag)
        tags[name] = tag
    return tags


def _pack_of(values):
    base, inner_unit, inner, outer_unit, outer = values
    return _one(PackUnit, base_unit=base, inner_unit=inner_unit, inner_qty=inner,
                outer_unit=outer_unit, outer_qty=outer)


def _repair_packs(created) -> None:
    """Give an older demo's single-pack cartons their real packing (LEGACY_PACKS).

    The entry is edited in place, as in the spec library, so every spec using it follows;
    the lines of orders ordered under it keep their quantities (multiples of the old inner
    pack, so of the new one too) and take the new packing, so that the loading list and
    the delivery note count the same packs as the shop.
    """
    from app.ordering.models import OrderLine

    for old, key in LEGACY_PACKS.items():
        unit = _pack_of(old)
        if unit is None:
            continue
        new = PACKS[key]
        if _pack_of(new) is not None:
            continue  # both exist (someone added it by hand): leave the library to a person
        unit.base_unit, unit.inner_unit, unit.inner_qty, unit.outer_unit, unit.outer_qty = new
        catalog.validate_pack_unit(unit)
        spec_ids = select(Spec.id).where(Spec.pack_unit_id == unit.id)
        for line in db.session.scalars(select(OrderLine).where(
                OrderLine.spec_id.in_(spec_ids), OrderLine.base_unit == old[0],
                OrderLine.inner_unit == old[1], OrderLine.inner_qty == old[2],
                OrderLine.outer_unit == old[3], OrderLine.outer_qty == old[4])):
            line.inner_unit, line.inner_qty = new[1], new[2]
            line.outer_unit, line.outer_qty = new[3], new[4]
            created.append(line)
        created.append(unit)
    db.session.flush()


def _seed_packs(created) -> dict[str, PackUnit]:
    packs = {}
    for key, (base, inner_unit, inner, outer_unit, outer) in PACKS.items():
        unit = _pack_of((base, inner_unit, inner, outer_unit, outer))
        if unit is None:
            unit = PackUnit(base_unit=base, inner_unit=inner_unit, inner_qty=inner,
                            outer_unit=outer_unit, outer_qty=outer)
            catalog.validate_pack_unit(unit)
            db.session.add(unit)
            created.append(unit)
        packs[key] = unit
    db.session.flush()
    return packs


def _seed_products(categories, brands, tags, packs, levels, created) -> None:
    existing = set(db.session.scalars(select(Product.item_no).where(
        Product.item_no.in_([row[0] for row in PRODUCTS]))))
    priced_levels = [(levels[name], off) for name, _, off in LEVELS if off is not None]
    for number, (item_no, name, brand, leaf, tag_names, specs, extra) in \
            enumerate(PRODUCTS, start=1):
        if item_no in existing:
            continue
        category = categories[leaf]
        product = Product(
            name=name, item_no=item_no, brand=brands[brand], category=category,
            tags=[tags[t] for t in tag_names], on_shelf=not extra.get("off"),
            sort_order=number * 10,
            description=content.sanitize_html(extra["desc"]) if extra.get("desc") else None)
        colour = demo_images.colour_for(leaf)
        for position in range(1 + number % 3):  # 1 to 3 pictures, the first is the cover
            key = _store_png(demo_images.product_image(item_no, SHAPE_OF[leaf], colour,
                                                       variant=position), "product")
            product.images.append(ProductImage(key=key, position=position))
            created.append(key)
        for index, (model, text, pack, kg, cartons, price) in enumerate(specs):
            unit = packs[pack]
            base = Decimal(price)
            spec = Spec(model=model, spec=text, pack_unit=unit, weight_kg=Decimal(kg),
                        stock=cartons * unit.outer_qty, base_price=base, active=True,
                        sort_order=index)
            for level, off in priced_levels:
                if level.name == "金牌" and extra.get("no_gold") == index:
                    continue  # shows the fallback: 金牌 members pay the base price here
                spec.level_prices.append(LevelPrice(level=level, price=_cents(base * off)))
                created.append(level.name)
            product.specs.append(spec)
            created.append(spec)
        catalog.refresh_derived(product)
        db.session.add(product)
        created.append(product)
    db.session.flush()


def _seed_content(categories, tags, created) -> None:
    for kind, title, order, body in ARTICLES:
        if _one(Article, kind=kind, title=title) is None:
            article = Article(kind=kind, title=title, body=body, published=True,
                              sort_order=order)
            content.validate_article(article)
            db.session.add(article)
            created.append(article)

    for name, address, phone, hours, lat, lng, order in STORES:
        if _one(Store, name=name) is None:
            store = Store(name=name, address=address, phone=phone, hours=hours, latitude=lat,
                          longitude=lng, sort_order=order, active=True)
            content.validate_store(store)
            db.session.add(store)
            created.append(store)

    def block(position, kind, title, items=(), **fields):
        if _one(HomeBlock, kind=kind, title=title) is not None:
            return
        home_block = HomeBlock(kind=kind, title=title, position=position, visible=True,
                               **fields)
        for index, item in enumerate(items):
            home_block.items.append(HomeBlockItem(position=index, **item))
            created.append(item["label"])
        content.validate_block(home_block)
        db.session.add(home_block)
        created.append(home_block)

    # Pictures are drawn only for a block that is created (generators run lazily).
    def banner_items():
        for title, subtitle, latin, target, shape in BANNERS:
            yield {"label": title[:32], "link": f"/category/{categories[target].id}",
                   "image": _store_png(demo_images.banner(
                       title, subtitle, latin, demo_images.colour_for(target, 0.55, 0.8),
                       shape), "home")}

    def icon_items():
        for name in ICON_NAV:
            category = categories[name]
            yield {"label": name, "link": f"/category/{category.id}",
                   "image": _store_png(demo_images.icon(
                       SHAPE_OF[name], demo_images.colour_for(name)), "home")}

    if _one(HomeBlock, kind=BlockKind.BANNER, title="首页轮播") is None:
        block(1, BlockKind.BANNER, "首页轮播", list(banner_items()))
    if _one(HomeBlock, kind=BlockKind.ICON_NAV, title="分类导航") is None:
        block(2, BlockKind.ICON_NAV, "分类导航", list(icon_items()))
    block(3, BlockKind.NOTICE, "公告", text=NOTICE)
    block(4, BlockKind.PRODUCTS, "热销推荐", tag=tags[HOT], limit=6)
    block(5, BlockKind.PRODUCTS, "客房洗漱", category=categories["一次性洗漱"], limit=6)
    block(6, BlockKind.ARTICLES, "采购指南", article_kind=ArticleKind.ARTICLE, limit=3)


def _seed_delivery(created) -> None:
    from app.ordering.models import FreightTemplate, RegionDeliveryFee

    for name, fee, free_above in REGION_FEES:
        region = _one(Region, name=name)
        if db.session.get(RegionDeliveryFee, region.id) is None:
            db.session.add(RegionDeliveryFee(region_id=region.id, fee=fee, free_above=free_above))
            created.append(name)
    name, provinces, first_kg, first_fee, extra, free_above = FREIGHT
    if _one(FreightTemplate, name=name) is None:
        db.session.add(FreightTemplate(name=name, provinces=provinces, first_kg=first_kg,
                                       first_fee=first_fee, extra_kg_fee=extra,
                                       free_above=free_above))
        created.append(name)


def _seed_addresses(created) -> None:
    """One saved address per approved customer, from the profile (what checkout would
    save at a first order); the demo orders deliver there. Identical copies that older
    demos saved, one per order, are folded into the first."""
    for mobile, *_rest in CUSTOMERS:
        user = accounts.find_account(mobile)
        member = db.session.scalar(select(Member).where(Member.user_id == user.id))
        saved = checkout.addresses(user)  # the default first
        seen = set()
        for address in saved:
            same = (address.province, address.city, address.district, address.street,
                    address.contact, address.phone)
            if same in seen:
                db.session.delete(address)
                created.append(address)
            seen.add(same)
        if not saved and member.status == MemberStatus.APPROVED:
            created.append(checkout.save_address(
                user, checkout.default_address_values(member), make_default=True))
    db.session.flush()


def _seed_orders(created) -> None:
    """Orders in every state across the three regions, made through the real services
    (cart, checkout, workflow), so their history and messages are real too."""
    import uuid

    from app.catalog.models import Product
    from app.ordering import cart, workflow
    from app.ordering.models import DeliveryPhoto, Order

    if db.session.scalar(select(Order.id).limit(1)) is not None:
        return  # loaded before
    user = accounts.find_account
    allowed_monthly = db.session.scalar(select(Member).where(
        Member.user_id == user("13900000034").id))
    allowed_monthly.monthly_settlement = True  # 统一结算 for this hotel
    db.session.commit()
    salesman_of = {"海口": "13800000011", "三亚": "13800000012", "琼海": "13800000002"}
    driver_of = {"海口": "13800000021", "三亚": "13800000022", "琼海": "13800000021"}
    for mobile, state, delivery, payment, items in ORDERS:
        customer = user(mobile)
        member = db.session.scalar(select(Member).where(Member.user_id == customer.id))
        region = member.region.name
        quantities = {}
        for item_no, packs in items:
            spec = db.session.scalar(select(Spec).join(Product).where(
                Product.item_no == item_no).order_by(Spec.id).limit(1))
            quantities[spec.id] = spec.pack_unit.inner_qty * packs
        cart.add_to_cart(customer, quantities)
        order = checkout.submit(customer, customer, {
            "idempotency_key": uuid.uuid4().hex, "delivery": delivery, "payment": payment,
            "address_id": checkout.addresses(customer)[0].id})
        staff_user = user(salesman_of[region])
        driver_profile = db.session.scalar(select(StaffProfile).where(
            StaffProfile.phone == driver_of[region], StaffProfile.kind == StaffKind.DRIVER))
        driver = user(driver_of[region])
        steps = {
            "pending": [],
            "confirmed": [("confirm", staff_user, {})],
            "assigned": [("confirm", staff_user, {}),
                         ("assign_driver", staff_user, {"driver_id": driver_profile.id})],
            "delivering": [("confirm", staff_user, {}),
                           ("assign_driver", staff_user, {"driver_id": driver_profile.id}),
                           ("start_delivery", driver, {})],
            "delivered": [("confirm", staff_user, {}),
                          ("assign_driver", staff_user, {"driver_id": driver_profile.id}),
                          ("start_delivery", driver, {}), ("photo", driver, {}),
                          ("complete_delivery", driver, {"cash_collected": "AUTO"})],
            "shipped": [("confirm", staff_user, {}),
                        ("mark_paid", staff_user, {"note": "工行转账已到账"}),
                        ("ship", staff_user, {"ship_method": "express",
                                              "note": "顺丰速运 SF1428 5570 2231"})],
            "ready_for_pickup": [("confirm", staff_user, {}), ("ready_for_pickup", staff_user, {})],
            "received": [("confirm", staff_user, {}),
                         ("ship", staff_user, {"ship_method": "logistics",
                                               "note": "德邦物流 DPK 2026 1125 88"}),
                         ("confirm_receipt", customer, {})],
            "closed": [("close", staff_user, {"reason": "客户电话取消：已从别处补货"})],
        }[state]
        for action, actor, data in steps:
            if action == "photo":
                key = _store_png(demo_images.delivery_note(order.order_no, member.shop_name),
                                 scope.order_folder(order.id, "delivery"), private=True)
                db.session.add(DeliveryPhoto(order_id=order.id, key=key,
                                             uploaded_by_id=actor.id))
                db.session.commit()
                continue
            if data.get("cash_collected") == "AUTO":
                data = {"cash_collected": str(order.total)}
            workflow.apply(order, action, actor, **data)
        created.append(order.order_no)
