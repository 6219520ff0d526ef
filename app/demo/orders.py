"""Demo delivery fees, saved addresses and orders in every state, made through the real
services (cart, checkout, workflow) so their history and messages are real too."""

import io
import uuid

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.catalog.models import Product, Spec
from app.demo import images as demo_images
from app.demo import rows
from app.demo.data import CREDIT_LIMIT, CUSTOMERS, FREIGHT, ORDERS, REGION_FEES
from app.extensions import db
from app.members.models import Member, MemberStatus, Region, StaffKind, StaffProfile
from app.ordering import cart, checkout, scope, workflow
from app.ordering.models import DeliveryPhoto, FreightTemplate, Order, RegionDeliveryFee
from app.ordering.states import Pay
from app.payments import vouchers
from app.platform import accounts
from app.platform.time import local_date


def delivery_fees(created) -> None:
    for name, fee, free_above in REGION_FEES:
        region = rows.one(Region, name=name)
        if db.session.get(RegionDeliveryFee, region.id) is None:
            db.session.add(RegionDeliveryFee(region_id=region.id, fee=fee, free_above=free_above))
            created.append(name)
    name, provinces, first_kg, first_fee, extra, free_above = FREIGHT
    if rows.one(FreightTemplate, name=name) is None:
        db.session.add(FreightTemplate(name=name, provinces=provinces, first_kg=first_kg,
                                       first_fee=first_fee, extra_kg_fee=extra,
                                       free_above=free_above))
        created.append(name)


def addresses(created) -> None:
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


def orders(created) -> None:
    """Orders in every state across the three regions, made through the real services
    (cart, checkout, workflow), so their history and messages are real too."""
    if db.session.scalar(select(Order.id).limit(1)) is not None:
        return  # loaded before
    user = accounts.find_account
    allowed_monthly = db.session.scalar(select(Member).where(
        Member.user_id == user("13900000034").id))
    allowed_monthly.monthly_settlement = True  # 统一结算 for this hotel
    allowed_monthly.credit_limit = CREDIT_LIMIT
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
                key = rows.store_png(demo_images.delivery_note(order.order_no, member.shop_name),
                                 scope.order_folder(order.id, "delivery"), private=True)
                db.session.add(DeliveryPhoto(order_id=order.id, key=key,
                                             uploaded_by_id=actor.id))
                db.session.commit()
                continue
            if data.get("cash_collected") == "AUTO":
                data = {"cash_collected": str(order.total)}
            workflow.apply(order, action, actor, **data)
        created.append(order.order_no)
    _voucher(created)


def _voucher(created) -> None:
    """The customer of the confirmed bank-transfer order sends the transfer's screenshot,
    so that 付款凭证 waits for the salesman and customer service."""
    order = db.session.scalar(select(Order).where(Order.payment_method == Pay.BANK,
                                                  Order.state == "confirmed").limit(1))
    if order is None:
        return
    photo = FileStorage(io.BytesIO(demo_images.transfer_screenshot(
        f"{order.total:.2f}", "椰城酒店用品批发")), filename="transfer.png",
        content_type="image/png")
    vouchers.upload(order.user, order.order_no, photo, {
        "amount": str(order.total), "paid_on": local_date().isoformat(),
        "remark": "工行手机银行转账，尾号 1234"})
    created.append(f"voucher {order.order_no}")
