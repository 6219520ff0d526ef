"""Links that open the phone's map app (Amap 高德) at an address or a place."""

from urllib.parse import quote, urlencode


def address_link(address: str) -> str:
    """An address search (a customer's delivery address, copied for navigation)."""
    return "https://uri.amap.com/search?" + urlencode({"keyword": address}, quote_via=quote)


def place_link(name: str, address: str, latitude=None, longitude=None) -> str:
    """A marker where the place has coordinates, else a search for its address."""
    if latitude is not None and longitude is not None:
        return "https://uri.amap.com/marker?" + urlencode(
            {"position": f"{longitude},{latitude}", "name": name}, quote_via=quote, safe=",")
    return address_link(address)
