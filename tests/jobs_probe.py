"""Job functions used by the job tests; they record their calls."""

CALLS: list = []


def record(value):
    CALLS.append(value)


def tick():
    CALLS.append("tick")
    return "ticked"
