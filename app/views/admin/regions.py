"""业务管理: regions and staff profiles."""

from flask_appbuilder.models.sqla.interface import SQLAInterface
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField
from wtforms.validators import Optional

from app.members import staff as staff_service
from app.members.models import Region, StaffKind, StaffProfile
from app.views.admin.base import PifaModelView

KIND_CHOICES = [(StaffKind.SALESMAN, _l("Salesman")), (StaffKind.DRIVER, _l("Driver"))]


class RegionView(PifaModelView):
    route_base = "/admin/regions"
    noun = _l("Regions")
    datamodel = SQLAInterface(Region)
    list_columns = ["name", "sort_order", "active"]
    add_columns = edit_columns = ["name", "sort_order", "active"]
    show_columns = ["name", "sort_order", "active", "staff", "created_at"]
    search_columns = ["name", "active"]
    base_order = ("sort_order", "asc")
    label_columns = {"name": _l("Region"), "sort_order": _l("Sort order"),
                     "active": _l("Active"), "staff": _l("Staff"),
                     "created_at": _l("Created at")}

    def pre_add(self, item):
        self._call(staff_service.validate_region, item)

    def pre_update(self, item):
        self._call(staff_service.validate_region, item)

    def pre_delete(self, item):
        self._call(staff_service.check_region_deletable, item)


class StaffProfileView(PifaModelView):
    route_base = "/admin/staff"
    noun = _l("Staff")
    datamodel = SQLAInterface(StaffProfile)
    list_columns = ["name", "phone", "kind_label", "plate", "region_names", "active"]
    show_columns = ["name", "phone", "kind_label", "plate", "regions", "active", "created_at"]
    add_columns = ["name", "phone", "kind", "plate", "regions", "active", "password"]
    edit_columns = ["name", "phone", "kind", "plate", "regions", "active"]
    search_columns = ["name", "phone", "kind", "plate", "regions", "active"]
    base_order = ("id", "asc")
    label_columns = {"name": _l("Name"), "phone": _l("Mobile"), "kind": _l("Position"),
                     "kind_label": _l("Position"), "plate": _l("Licence plate"),
                     "regions": _l("Regions"), "region_names": _l("Regions"),
                     "active": _l("Active"), "created_at": _l("Created at"),
                     "password": _l("Initial password")}
    description_columns = {
        "phone": _l("The mobile number is the person's sign-in name."),
        "plate": _l("Drivers only, e.g. 琼A·12345."),
        "password": _l("Only needed when this mobile number has no account yet."),
    }
    add_form_extra_fields = {
        "kind": SelectField(_l("Position"), choices=KIND_CHOICES),
        "password": PasswordField(_l("Initial password"), validators=[Optional()]),
    }
    edit_form_extra_fields = {"kind": SelectField(_l("Position"), choices=KIND_CHOICES)}

    def pre_add(self, item):
        self._call(staff_service.prepare_staff, item, getattr(item, "password", None))

    def pre_update(self, item):
        self._call(staff_service.prepare_staff, item)

    def pre_delete(self, item):
        self._call(staff_service.check_staff_deletable, item)
