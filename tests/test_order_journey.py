"""The heart of the product, through the services: a customer orders, the salesman
confirms and assigns a driver, the driver starts, uploads two photos of the signed note
and completes; the customer sees 已收货 without doing anything. The outbox holds the
messages SPEC.md names, in order, to the right phones; the history has every step."""

import io

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.members.models import Member
from app.messaging.models import Message
from app.ordering import cart, checkout, scope, workflow
from app.ordering.models import DeliveryPhoto, Order
from app.ordering.states import CUSTOMER_LABELS
from app.platform import uploads
from tests.conftest import login
from tests.images import image_bytes
from tests.order_factory import World


def _photo(order, actor):
    stored = uploads.save_image(FileStorage(io.BytesIO(image_bytes()), filename="note.jpg"),
                                private=True, folder=scope.order_folder(order.id,
                                                                               "delivery"))
    db.session.add(DeliveryPhoto(order_id=order.id, key=stored.key, uploaded_by_id=actor.id))
    db.session.commit()


def test_order_to_photo_of_the_signed_note(app, make):
    with app.app_context():
        world, keys = _journey(app, make)
    # The customer sees the photos; another customer and a visitor do not.
    owner, stranger = app.test_client(), app.test_client()
    login(owner, world.customer.mobile)
    login(stranger, world.other_customer.mobile)
    for key in keys:
        assert owner.get("/media/" + key).status_code == 200
        assert stranger.get("/media/" + key).status_code == 404
        assert app.test_client().get("/media/" + key).status_code == 404


def _journey(app, make):
    world = World(app, make)
    customer, salesman = world.user(world.customer), world.user(world.salesman)
    driver = world.user(world.driver)
    cart.add_to_cart(customer, {world.spec_id: world.moq * 2})
    order = checkout.submit(customer, customer, {
        "idempotency_key": "journey-0001", "delivery": "delivery", "payment": "cod",
        "province": "海南省", "city": "海口市", "street": "海甸岛 1 号", "contact": "黄经理",
        "phone": "13912345678"})
    no = order.order_no
    workflow.apply(order, "confirm", salesman)
    workflow.apply(order, "assign_driver", salesman, driver_id=world.driver.id)
    workflow.apply(order, "start_delivery", driver)
    _photo(order, driver)
    _photo(order, driver)
    workflow.apply(order, "complete_delivery", driver, cash_collected=str(order.total))

    order = db.session.get(Order, order.id)
    assert order.state == "delivered" and str(CUSTOMER_LABELS[order.state]) in ("已收货",
                                                                               "Received")
    assert order.payment_status == "paid" and len(order.photos) == 2
    assert [e.action for e in order.events] == ["submit", "confirm", "assign_driver",
                                                "start_delivery", "complete_delivery"]
    assert [(e.from_state, e.to_state) for e in order.events][1:] == [
        ("pending", "confirmed"), ("confirmed", "assigned"), ("assigned", "delivering"),
        ("delivering", "delivered")]

    member_phone = db.session.get(Member, world.customer.id).phone
    sms = [(m.event, m.recipient, m.body) for m in db.session.scalars(
        select(Message).where(Message.channel == "sms").order_by(Message.id))]
    assert sms == [
        ("order_submitted", member_phone, f"您的订单{no}已提交，等待业务经理确认。"),
        ("new_order", world.salesman.mobile, f"有新订单{no}，请尽快登录小程序业务管理查看处理。"),
        ("order_confirmed", member_phone,
         f"订单确认通知：您的订单{no}已确认，我们会尽快为您发货。"),
        ("driver_assigned", world.driver.mobile, f"您的订单{no}待送货，请及时办理出库和送货。"),
        ("order_shipping", member_phone,
         f"您的订单{no}正在发货中，司机或物流信息可在“待发货”中查看。"),
        ("order_delivered", member_phone, f"您的订单{no}已送达，签收单已上传，感谢您的惠顾。"),
    ]
    return world, [p.key for p in order.photos]
