"""Rich text written in the back office (product descriptions, articles), made safe to
show on every end."""

import nh3

ALLOWED_TAGS = {"p", "br", "strong", "b", "em", "i", "u", "s", "h2", "h3", "h4", "ul", "ol",
                "li", "blockquote", "a", "img", "span", "div", "table", "thead", "tbody", "tr",
                "th", "td", "hr"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height"},
                      "td": {"colspan", "rowspan"}, "th": {"colspan", "rowspan"}}


def sanitize_html(html: str | None) -> str:
    """Keep formatting, drop scripts, event handlers, styles and javascript: URLs."""
    return nh3.clean(html or "", tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto", "tel"},
                     link_rel="noopener noreferrer nofollow")
