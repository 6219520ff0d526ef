"""All models, imported so that every table is on FAB's metadata before mapping."""

from .members import Member, MemberStatus
from .messages import Channel, Message, MessageStatus
from .regions import Region, StaffKind, StaffProfile, staff_region
from .settings import ShopSettings

__all__ = [
    "Channel",
    "Member",
    "MemberStatus",
    "Message",
    "MessageStatus",
    "Region",
    "ShopSettings",
    "StaffKind",
    "StaffProfile",
    "staff_region",
]
