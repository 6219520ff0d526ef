"""Orders in any state, built through the real services (call inside an app context)."""

import uuid

from app.extensions import db
from app.members.models import Member, MemberLevel
from app.ordering import cart, checkout, workflow
from app.ordering.models import DeliveryPhoto, Order
from tests import catalog_factory as cf


class World:
    """A region A with a customer, two salesmen, two drivers; a region B with staff too."""

    def __init__(self, app, make):
        self.app = app
        self.region = make.region(name="海口")
        self.other_region = make.region(name="三亚")
        self.customer = make.member(region=self.region, status="approved")
        self.other_customer = make.member(region=self.region, status="approved")
        self.salesman = make.staff("salesman", [self.region])
        self.other_salesman = make.staff("salesman", [self.other_region])
        self.driver = make.staff("driver", [self.region])
        self.driver2 = make.staff("driver", [self.region])
        self.other_driver = make.staff("driver", [self.other_region])
        self.cs = make.user("CustomerService")
        self.admin = make.user("Admin")
        level = MemberLevel(name=f"L{uuid.uuid4().hex[:6]}", sort_order=1)
        db.session.add(level)
        db.session.flush()
        for ref in (self.customer, self.other_customer):
            db.session.get(Member, ref.id).level_id = level.id
        product = cf.product(name="矿泉水", stock=10_000)
        self.spec_id = product.specs[0].id
        self.moq = product.specs[0].pack_unit.inner_qty
        db.session.commit()

    def user(self, ref):
        return self.app.appbuilder.sm.get_user_by_id(ref.user_id)

    def order(self, state="pending", delivery="delivery", payment="cod", quantity=None):
        """A fresh order of the customer, moved to `state` through workflow.apply."""
        customer = self.user(self.customer)
        cart.add_to_cart(customer, {self.spec_id: quantity or self.moq * 2})
        data = {"idempotency_key": uuid.uuid4().hex, "delivery": delivery, "payment": payment,
                "province": "海南省", "city": "海口市", "district": "美兰区",
                "street": "海甸二东路 25 号", "contact": "黄经理", "phone": "13912345678"}
        if state == "ready_for_pickup":
            data["delivery"], data["payment"] = "pickup", "bank"
        order = checkout.submit(customer, customer, data)
        salesman, driver = self.user(self.salesman), self.user(self.driver)
        path = {
            "pending": [],
            "confirmed": [("confirm", salesman, {})],
            "assigned": [("confirm", salesman, {}),
                         ("assign_driver", salesman, {"driver_id": self.driver.id})],
            "delivering": [("confirm", salesman, {}),
                           ("assign_driver", salesman, {"driver_id": self.driver.id}),
                           ("start_delivery", driver, {})],
            "shipped": [("confirm", salesman, {}),
                        ("ship", salesman, {"ship_method": "express", "note": "SF1"})],
            "ready_for_pickup": [("confirm", salesman, {}), ("ready_for_pickup", salesman, {})],
            "delivered": [("confirm", salesman, {}),
                          ("assign_driver", salesman, {"driver_id": self.driver.id}),
                          ("start_delivery", driver, {}), ("photo", driver, {}),
                          ("complete_delivery", driver, {})],
            "received": [("confirm", salesman, {}),
                         ("ship", salesman, {"ship_method": "express", "note": "SF1"}),
                         ("confirm_receipt", customer, {})],
            "closed": [("close", salesman, {"reason": "测试"})],
        }[state]
        for action, actor, data in path:
            if action == "photo":
                add_photo(order, actor)
                continue
            workflow.apply(order, action, actor, **data)
        if state == "delivering":
            add_photo(order, driver)
        return db.session.get(Order, order.id)


def add_photo(order, actor):
    db.session.add(DeliveryPhoto(order_id=order.id, key=f"private/delivery/{uuid.uuid4().hex}.jpg",
                                 uploaded_by_id=actor.id))
    db.session.commit()
