"""Forms with files over the API: multipart/form-data read by one schema that bounds the
fields and the files together (the location "multipart")."""

from flask_babel import gettext as _
from flask_smorest import Blueprint
from flask_smorest.fields import Upload
from marshmallow import ValidationError as MarshmallowError
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict, FileStorage


class MultipartParser(FlaskParser):
    """webargs reads a form's fields ("form") and its files ("files") with two schemas,
    and flask-smorest documents only one request body; "multipart" reads both at once."""

    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def load_multipart(self, req, schema):
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)


def accept_multipart(blp: Blueprint) -> None:
    """Let this blueprint's routes read location="multipart"."""
    blp.ARGUMENTS_PARSER = MultipartParser()
    blp.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING, "multipart": "multipart/form-data"}


class FileField(Upload):
    """An uploaded image; text sent under a file's name is refused here, not in a service."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage):
            raise MarshmallowError(_("Please choose an image."))
        return value


def without_blanks(data) -> dict:
    """A form's empty inputs count as not sent: the services then say what is missing."""
    return {key: data[key] for key in data if data[key] != ""}
